#!/usr/bin/env bash
# Real photographs for training, validation and evaluation, from Debian packages anyone can
# install. Every image of these packages (and of the other wallpaper packages Debian 12 has:
# gnome-backgrounds, ukui-wallpapers, sway-backgrounds, lomiri-wallpapers, debian-edu-artwork,
# enlightenment-data) was looked at; the photographs are listed below by name, illustrations and
# renders left out.
#
#   package                      licence of the photos used                 photos
#   mate-backgrounds             GPL-2+ (debian/copyright)                  12 (nature/)
#   plasma-workspace-wallpapers  GPL-2+ (KDE Visual Design Group)           10
#   lomiri-wallpapers-16.04      CC-BY-4.0 / CC-BY-SA-4.0 (per file)        13 (Ubuntu 18.04 contest)
#   lomiri-wallpapers-20.04      CC-BY-SA-4.0                               2
#   lxqt-themes                  LGPL-2.1+ (debian/copyright, Files: *)     10 (wallpapers/)
# Unpacked from their .deb files (apt-get download; not installed, so none of their programs'
# dependencies come along), each image looked at; photographs kept, illustrations, paintings,
# screenshots, icons and thumbnails dropped:
#   gcompris-qt-data             per file, in each activity's README (kept   128 (WebP inside Qt
#                                in data/photos/credits/): CC-BY-SA-4.0,         .rcc resources:
#                                CC-BY-SA-3.0, CC-BY-3.0, CC-BY-2.0, CC0-1.0,    scripts/rcc-extract.py)
#                                public domain
#   tuxpaint-data                GPL-2+ (debian/copyright, Files: *)        19 (templates/)
#   kphotoalbum                  GPL-2+ (the demo album)                    24 (demo/; 4 turned as
#                                                                              its index.xml says)
#   scribus-template             public domain (Riku Leino's templates)     7
#   palapeli-data                public domain / GFDL (per .desktop file)   5 (collection/)
#   sddm-theme-maldives          CC-BY-SA-3.0 (debian/copyright)            1
#   digikam-data                 GPL-2+ (debian/copyright)                  1 (about/)
# Real HDR: blender-data's 8 studio-light worlds (OpenEXR equirectangular panoramas, 1024 x 512;
# Poly Haven's, released CC0; debian/copyright lists them under Files: *, GPL-2+), converted (on
# every run) to Radiance .hdr with pfstools (pfsin | pfsout) into data/panoramas/{train,val,eval}/.
# Links are relative, so the checkout can move; data/debs/ holds the unpacked packages they need.
#
# Writes data/photos/{train,val,eval}/ (symbolic links, or decoded/turned copies under
# data/photos/files/), split by fixed name; photos of one scene (kphotoalbum's pairs) share a split:
#   train       everything not named below
#   val   (27)  for choosing checkpoints and settings; never trained on
#   eval  (42)  for the reported evaluation only (the first 15 as in every earlier evaluation);
#               never trained on, never used to choose
# and data/panoramas/: train (6), val (courtyard), eval (sunset).
# Usage: bash scripts/photos.sh   (or: make photos). Needs python3, dwebp (webp), jpegtran
# (libjpeg-turbo-progs) and pfstools; installs what is missing when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(mate-backgrounds plasma-workspace-wallpapers lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 lxqt-themes
          webp libjpeg-turbo-progs pfstools python3)
unpacked=(gcompris-qt-data tuxpaint-data kphotoalbum scribus-template palapeli-data sddm-theme-maldives digikam-data
          blender-data)
need=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "photos: missing packages; run: sudo apt-get install ${need[*]}" >&2
        exit 1
    fi
fi

# The other packages' .deb files, downloaded once into data/debs/ and unpacked there.
mkdir -p data/debs
root=data/debs/root
for p in "${unpacked[@]}"; do
    # A .deb that dpkg-deb cannot read (an interrupted download) is fetched again.
    deb=$(ls data/debs/"$p"_*.deb 2>/dev/null | head -1 || true)
    if [ -z "$deb" ] || ! dpkg-deb --info "$deb" >/dev/null 2>&1; then
        rm -f data/debs/"$p"_*.deb data/debs/"$p".unpacked
        rm -rf data/debs/download && mkdir -p data/debs/download
        (cd data/debs/download && apt-get download "$p" >/dev/null 2>&1) || {
            [ "$(id -u)" -eq 0 ] && apt-get update -qq && (cd data/debs/download && apt-get download "$p" >/dev/null)
        } || { echo "photos: could not download $p (apt-get download $p)" >&2; exit 1; }
        mv data/debs/download/*.deb data/debs/ && rmdir data/debs/download
        deb=$(ls data/debs/"$p"_*.deb | head -1)
    fi
    stamp=data/debs/$p.unpacked
    [ -e "$stamp" ] || { dpkg-deb -x "$deb" "$root" && touch "$stamp"; }
done

mate=/usr/share/backgrounds/mate/nature
kde=/usr/share/wallpapers
ubuntu=/usr/share/backgrounds
lxqt=/usr/share/lxqt/wallpapers
# Photographs (not illustrations) among the KDE wallpapers.
kde_photos=(BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey OneStandsOut Path summer_1am)
# Photographs among the Ubuntu contest wallpapers (file names without _by_AUTHOR.jpg).
ubuntu_photos=(Bridge Dragonfly Picture_0B Picture_1A Wine aitzgorri free friends greentock life picosdeeuropa seeding sunset
               Infinite-Sea Kleiber)
# Photographs among the LXQt wallpapers (the rest are logos, origami and renders).
lxqt_photos=(after-the-rain appleflower beam butterfly Butterfly-Kenneth-Wimer cloud drop flowers fog
             this-is-not-windows)
# gcompris-qt-data: activity -> photographs (file names without .webp) in its .rcc resource.
declare -A gcompris=(
  [erase]="alpaca bee butterfly calf camels caterpillar chamaeleon cheetah crab dolphin flying_fox gibbon giraffe goat
           gorilla gosling heron horse kingfisher kitten long_nosed_monkey macaque meerkats northern_harrier nubian_ibex
           penguin pika red_panda rhinoceros spoonbills squirrel swans toucan"
  [explore_monuments]="bentPyramid greatPyramidOfGiza meidumPyramid redPyramid arlesAmphitheater chateaudeChambord
           chateaudeChenonceau citedeCarcassonne eiffelTower montStMichel palaisdesPapes pontduGard reimsCathedral
           rocamadour aulaPalatina berlinCathedral brandenburgGate neuschwansteinCastle schwerinPalace
           trierImperialBaths wormsCathedral ajantaCave charminar gatewayofIndia goldenTemple greatStupa hawaMahal
           konarkSunTemple mysorePalace qutubMinar rangGhar victoriaMemorial cabrillo canyondeChelly
           castillodeSanMarcos castleClinton fortSumter georgeWashingtonBirthplace lincolnMemorial mountRushmore navajo
           statueofLiberty chichenItza christTheRedeemer colosseum greatWallofChina machuPicchu petra tajMahal"
  [explore_world_animals]="bison chameleon crocodile dragon giraffe hedgehog jaguar kangaroo koala lemur moose narwhal
           panda polar_bear scarlet_macaw"
  [explore_farm_animals]="cat chicken cow dog duck horse owl pig sheep"
  [explore_world_music]="africa america australia ireland italy japan mexico middleeast orchestra"
  [clickgame]="sea1 sea2 sea3 sea4 sea5 sea6"
  # details' other castles are the same photographs as explore_monuments'; its paintings are paintings
  [details]="EgeskovSlotSpejling_background EilanDonanCastle_background GizahPyramids_background
           Louvre_2007_02_24_c_background Nagoya_background OperaSidney_background TowerBridgeLondon_background"
)
tuxpaint_photos=(burnt_bark cliff corn_maze jellyfish lighthouse mossy_bark mossy_log mudstone ocean_splash ocean_waves
                 redwoods_above rocks sheep spiders_web sun_behind_clouds sun_behind_leaves trees_above trees_at_dusk
                 wool_mill_machine)
scribus_photos=(br2/brightness br2/halfmoon br2/moon br2/nature br2/sunset cal2/moon menu2/pizza)
panoramas=(city courtyard forest interior night studio sunrise sunset)

# Never trained on. Validation chooses; evaluation only reports.
val_names=(Path Wine friends seeding Kleiber greentock
           erase-alpaca erase-camels erase-penguin erase-heron monument-brandenburgGate monument-chateaudeChambord
           monument-greatWallofChina monument-goldenTemple monument-statueofLiberty monument-pontduGard animal-moose
           animal-lemur farm-horse music-mexico sea-sea5 kpa-skagen kpa-skagen_2 tuxpaint-lighthouse tuxpaint-ocean_waves
           palapeli-cincinnati-bridge details-OperaSidney)
eval_names=(Storm Garden EveningGlow OneStandsOut summer_1am Bridge Dragonfly Picture_0B Picture_1A aitzgorri free life
            picosdeeuropa sunset Infinite-Sea
            erase-cheetah erase-dolphin erase-kingfisher erase-red_panda erase-swans erase-spoonbills monument-eiffelTower
            monument-montStMichel monument-hawaMahal monument-mountRushmore monument-petra monument-colosseum
            monument-machuPicchu monument-victoriaMemorial animal-polar_bear animal-scarlet_macaw animal-panda farm-sheep
            farm-duck music-japan music-orchestra sea-sea3 kpa-grand_canyon_1 kpa-grand_canyon_2 kpa-grand_canyon_3
            tuxpaint-sun_behind_clouds details-TowerBridgeLondon)
val_panoramas=(courtyard)
eval_panoramas=(sunset)

rm -rf data/photos.tmp && mkdir -p data/photos.tmp/train data/photos.tmp/val data/photos.tmp/eval
add() {  # add NAME FILE   (FILE relative to the repository, or absolute)
    local name=$1 file=$2 split=train
    case $file in /*) ;; *) file=../../../$file ;; esac    # relative to data/photos/SPLIT/
    for e in "${val_names[@]}"; do [ "$e" = "$name" ] && split=val; done
    for e in "${eval_names[@]}"; do [ "$e" = "$name" ] && split=eval; done
    ln -s "$file" "data/photos.tmp/$split/$name.${file##*.}"
}
for f in "$mate"/*.jpg; do add "$(basename "${f%.*}")" "$f"; done
for n in "${kde_photos[@]}"; do
    f=$(ls "$kde/$n/contents/images/"*.jpg 2>/dev/null | sort -V | tail -1)
    [ -n "$f" ] && add "$n" "$f"
done
for n in "${ubuntu_photos[@]}"; do
    f=$(ls "$ubuntu/${n}_by_"*.jpg 2>/dev/null | head -1)
    [ -n "$f" ] && add "$n" "$f"
done
for n in "${lxqt_photos[@]}"; do
    f=$(ls "$lxqt/$n".* 2>/dev/null | head -1)
    [ -n "$f" ] && add "$n" "$f"
done

# Decoded or turned copies live in data/photos.tmp/files/ (moved with the rest at the end).
files=data/photos.tmp/files
mkdir -p "$files" data/photos.tmp/credits
rcc=$root/usr/share/gcompris-qt/rcc
declare -A prefix=([explore_monuments]=monument [explore_world_animals]=animal [explore_farm_animals]=farm
                   [explore_world_music]=music [clickgame]=sea [erase]=erase [details]=details)
for activity in "${!gcompris[@]}"; do
    out=data/photos.tmp/rcc/$activity
    python3 scripts/rcc-extract.py "$rcc/$activity.rcc" "$out" .webp README >/dev/null
    find "$out" -name README -exec cp {} "data/photos.tmp/credits/gcompris-$activity.README" \;
    for n in ${gcompris[$activity]}; do
        src=$(find "$out" -name "$n.webp" | head -1)
        [ -n "$src" ] || { echo "photos: $n.webp is not in $activity.rcc" >&2; exit 1; }
        name=${prefix[$activity]}-${n%_background}
        dwebp -quiet "$src" -o "$files/$name.png"
        add "$name" "data/photos/files/$name.png"
    done
done
rm -rf data/photos.tmp/rcc
for n in "${tuxpaint_photos[@]}"; do add "tuxpaint-$n" "$root/usr/share/tuxpaint/templates/$n.jpg"; done
# kphotoalbum's demo album: the angle its index.xml gives, applied losslessly (jpegtran).
demo=$root/usr/share/kphotoalbum/demo
for f in "$demo"/*.jpg; do
    n=$(basename "${f%.jpg}")
    angle=$(grep -o "file=\"$n.jpg\"[^>]*angle=\"[0-9]*\"" "$demo/index.xml" | grep -o 'angle="[0-9]*"' | tr -dc 0-9 || true)
    if [ -n "$angle" ] && [ "$angle" != 0 ]; then
        jpegtran -copy none -trim -rotate "$angle" -outfile "$files/kpa-$n.jpg" "$f"
        add "kpa-$n" "data/photos/files/kpa-$n.jpg"
    else
        add "kpa-$n" "$f"
    fi
done
for p in "${scribus_photos[@]}"; do add "scribus-${p/\//-}" "$root/usr/share/scribus/templates/$p.jpg"; done
for f in "$root"/usr/share/palapeli/collection/*.jpg; do add "palapeli-$(basename "${f%.jpg}")" "$f"; done
add sddm-maldives "$root/usr/share/sddm/themes/maldives/background.jpg"
add digikam-about "$root/usr/share/digikam/about/images/body-background.jpg"

# The panoramas: OpenEXR -> Radiance .hdr, once.
rm -rf data/panoramas.tmp && mkdir -p data/panoramas.tmp/train data/panoramas.tmp/val data/panoramas.tmp/eval
for n in "${panoramas[@]}"; do
    split=train
    for e in "${val_panoramas[@]}"; do [ "$e" = "$n" ] && split=val; done
    for e in "${eval_panoramas[@]}"; do [ "$e" = "$n" ] && split=eval; done
    # pfsinexr warns about a missing Exif channel on every file; anything else is shown.
    pfsin "$root/usr/share/blender/datafiles/studiolights/world/$n.exr" 2> >(grep -v "Exif" >&2) \
        | pfsout "data/panoramas.tmp/$split/$n.hdr" || { echo "photos: converting $n.exr to .hdr failed" >&2; exit 1; }
done
rm -rf data/panoramas && mv data/panoramas.tmp data/panoramas

rm -rf data/photos && mv data/photos.tmp data/photos
echo "photos: $(ls data/photos/train | wc -l) for training, $(ls data/photos/val | wc -l) for validation," \
     "$(ls data/photos/eval | wc -l) held out for evaluation (data/photos/{train,val,eval});" \
     "panoramas: $(ls data/panoramas/train | wc -l) + $(ls data/panoramas/val | wc -l) + $(ls data/panoramas/eval | wc -l) (data/panoramas/)"

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
#
# Writes data/photos/{train,val,eval}/ as symbolic links, split by fixed name:
#   train (26)  the 16 photos every shipped model up to stage 5 trained on, and lxqt-themes' 10
#   val   (6)   for choosing checkpoints and settings; never trained on
#   eval  (15)  for the reported evaluation only; never trained on, never used to choose
# Usage: bash scripts/photos.sh   (or: make photos)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(mate-backgrounds plasma-workspace-wallpapers lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 lxqt-themes)
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
# Never trained on. Validation chooses; evaluation only reports.
val_names=(Path Wine friends seeding Kleiber greentock)
eval_names=(Storm Garden EveningGlow OneStandsOut summer_1am Bridge Dragonfly Picture_0B Picture_1A aitzgorri free life
            picosdeeuropa sunset Infinite-Sea)

rm -rf data/photos.tmp && mkdir -p data/photos.tmp/train data/photos.tmp/val data/photos.tmp/eval
add() {  # add NAME FILE
    local name=$1 file=$2 split=train
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
rm -rf data/photos && mv data/photos.tmp data/photos
echo "photos: $(ls data/photos/train | wc -l) for training, $(ls data/photos/val | wc -l) for validation," \
     "$(ls data/photos/eval | wc -l) held out for evaluation (data/photos/{train,val,eval})"

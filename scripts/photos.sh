#!/usr/bin/env bash
# Real photographs for training and evaluation, from Debian packages anyone can install:
#   mate-backgrounds             (/usr/share/backgrounds/mate/nature: 12 nature photos)
#   plasma-workspace-wallpapers  (/usr/share/wallpapers/*/contents/images: KDE's wallpapers;
#                                 the photographic ones are listed below)
# Writes data/photos/train/ and data/photos/eval/ as symbolic links. The evaluation photos are
# fixed by name and never used for training. Usage: bash scripts/photos.sh   (or: make photos)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for p in mate-backgrounds plasma-workspace-wallpapers; do
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
# Photographs (not illustrations) among the KDE wallpapers.
kde_photos=(BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey)
# Held out for evaluation: never trained on.
eval_names=(Storm Garden EveningGlow)

rm -rf data/photos.tmp && mkdir -p data/photos.tmp/train data/photos.tmp/eval
add() {  # add NAME FILE
    local name=$1 file=$2 split=train
    for e in "${eval_names[@]}"; do [ "$e" = "$name" ] && split=eval; done
    ln -s "$file" "data/photos.tmp/$split/$name.${file##*.}"
}
for f in "$mate"/*.jpg; do add "$(basename "${f%.*}")" "$f"; done
for n in "${kde_photos[@]}"; do
    f=$(ls "$kde/$n/contents/images/"*.jpg 2>/dev/null | sort -V | tail -1)
    [ -n "$f" ] && add "$n" "$f"
done
rm -rf data/photos && mv data/photos.tmp data/photos
echo "photos: $(ls data/photos/train | wc -l) for training in data/photos/train, $(ls data/photos/eval | wc -l) held out in data/photos/eval"

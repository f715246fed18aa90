#!/usr/bin/env bash
# Runs the upload job against a local folder standing in for B2: builds a small library and a
# completed folder under a temp directory, points a copy of out/runtime/config.json at them, and
# runs `upload` twice (the second run finds nothing new). Needs node, rclone and unar. No
# qBittorrent runs here, so the download in the completed folder waits: upload only sends
# downloads qBittorrent says are complete.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=$(mktemp -d /tmp/media-pipeline-demo.XXXXXX)
echo "demo folder: $demo"

mkdir -p "$demo/media/arr/tv/Show Name/Season 1" "$demo/var/lib/qBittorrent/completed/tv" \
  "$demo/var/lib/qBittorrent/completed/movies" "$demo/var/lib/qBittorrent/downloading" \
  "$demo/var/lib/qBittorrent/extracted" "$demo/media/arr/movies" "$demo/run" "$demo/remote"
echo "an episode" > "$demo/media/arr/tv/Show Name/Season 1/S01E01.mkv"
mkdir -p "$demo/var/lib/qBittorrent/completed/Some.Download"
echo "a download" > "$demo/var/lib/qBittorrent/completed/Some.Download/file.bin"
touch -d '1 hour ago' "$demo/media/arr/tv/Show Name/Season 1/S01E01.mkv" "$demo/var/lib/qBittorrent/completed/Some.Download/file.bin"

# The generated config, with every folder moved under the demo folder.
node -e '
  const [demo] = process.argv.slice(1);
  const c = JSON.parse(require("fs").readFileSync("out/runtime/config.json", "utf8"));
  const re = (p) => demo + p;
  c.upload.sources.forEach((s) => (s.path = re(s.path)));
  c.upload.categoryPaths = c.upload.categoryPaths.map(re);
  for (const k of ["tempPath", "extractDir"]) c.upload[k] = re(c.upload[k]);
  c.lockDir = demo + "/run";
  c.stateDir = demo + "/state";
  delete c.$schema;
  require("fs").writeFileSync(demo + "/config.json", JSON.stringify(c, null, 2));
' "$demo"

# rclone reads the remote from the environment: a local-type remote named like the B2 one.
export RCLONE_CONFIG_B2_TYPE=local
cd "$demo/remote"
node "$OLDPWD/out/runtime/media-pipeline.mjs" upload --config "$demo/config.json"
node "$OLDPWD/out/runtime/media-pipeline.mjs" upload --config "$demo/config.json"
echo "on the stand-in remote:"
find "$demo/remote" -type f | sed "s|$demo/remote/||" | sort
echo "upload records ($demo/state/uploads.json):"
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).records; for (const [k, v] of Object.entries(r)) console.log(`  ${k} ${v.size} B → ${v.copies.map((c) => `${c.remotePath} sha1 ${c.sha1}`).join(", ")}`)' "$demo/state/uploads.json"

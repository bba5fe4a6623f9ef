#!/usr/bin/env bash
# Renders the report of the checked-in fixture in headless Chromium at a phone width (390x844) and a
# desktop width (1280x900) and checks what a reader would see: the page loads (the DOM dump has the
# report's title and our probe), every plot is in the DOM (<svg> count = the figures the report wrote),
# and nothing overflows horizontally (document scrollWidth <= the viewport's clientWidth; wide tables
# must scroll inside their own box). A screenshot of each width is taken too (non-empty PNG).
#
# The report itself has no script; the measuring script lives in a wrapper page made here.
#   usage: report_render_chromium.sh ATTNBENCH_EXE FIXTURE_DIR
# Exit 0 pass, 1 fail, 77 skip (only when chromium is not installed: scripts/install-deps.sh installs it).
set -euo pipefail

exe=$1
fixture_dir=$2
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "SKIP: chromium is not installed (scripts/install-deps.sh installs Debian's chromium)"
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/attnbench-render.XXXXXX")
trap '[ -n "${KEEP_RENDER_DIR:-}" ] || rm -rf "$work"' EXIT

"$exe" report "$fixture_dir/results.jsonl" --machine "$fixture_dir/machine-profile.json" -o "$work/report" >/dev/null
figures=$(find "$work/report" -maxdepth 1 -name 'fig-*.svg' | wc -l)
if [ "$figures" -lt 5 ]; then
  echo "FAIL: the fixture's report has only $figures figures"
  exit 1
fi

# Chromium will not make a window narrower than about 500 px, so the page is loaded into an iframe of
# exactly the width under test, in a wrapper page whose script measures the framed document once it
# has loaded and writes the figures into the wrapper's DOM, which --dump-dom prints. Elements inside a
# .table-wrap are not counted as overflowing: they scroll inside their own box.
wrapper() {  # wrapper WIDTH HEIGHT
  cat <<HTML
<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0}iframe{border:0}</style></head><body>
<iframe id="page" src="report.html" width="$1" height="$2"></iframe>
<script>
document.getElementById("page").addEventListener("load", function () {
  var doc = this.contentDocument, d = doc.documentElement, vw = d.clientWidth, wide = [];
  doc.querySelectorAll("body *").forEach(function (e) {
    if (e.closest(".table-wrap") !== null) {
      if (!e.classList.contains("table-wrap")) return;
    }
    if (e.getBoundingClientRect().right > vw + 1) {
      if (wide.length < 5) wide.push(e.tagName);
    }
  });
  var p = document.createElement("pre");
  p.textContent = "probe title=" + (doc.querySelector("h1") ? doc.querySelector("h1").textContent : "none").replace(/ /g, "_") +
                  " scrollWidth=" + d.scrollWidth + " clientWidth=" + vw + " svgs=" + doc.querySelectorAll("figure svg").length +
                  " overflowing=" + (wide.join(",") || "none");
  document.body.appendChild(p);
});
</script></body></html>
HTML
}

status=0
for size in 390,844 1280,900; do
  width=${size%,*} height=${size#*,}
  wrapper "$width" "$height" > "$work/report/probe-$width.html"
  # shellcheck disable=SC2054  # the commas are chromium's (--window-size=W,H), not array separators
  common=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-extensions
          --allow-file-access-from-files --user-data-dir="$work/profile" --window-size=$((width + 40)),$((height + 40)))
  dom=$(timeout 60 "$chromium" "${common[@]}" --virtual-time-budget=10000 --dump-dom "file://$work/report/probe-$width.html" 2>/dev/null || true)
  timeout 60 "$chromium" "${common[@]}" --screenshot="$work/shot-$width.png" "file://$work/report/probe-$width.html" >/dev/null 2>&1 || true
  line=$(grep -o 'probe title=[^ ]* scrollWidth=[0-9]* clientWidth=[0-9]* svgs=[0-9]* overflowing=[^<]*' <<<"$dom" || true)
  if [ -z "$line" ] || [[ "$line" != "probe title=attnbench_report "* ]]; then
    echo "FAIL (${width}x$height): the page did not load (no report title in the framed page's DOM): ${line:-no probe output}"
    status=1
    continue
  fi
  read -r scroll client svgs overflowing <<<"$(sed -E 's/.*scrollWidth=([0-9]+) clientWidth=([0-9]+) svgs=([0-9]+) overflowing=(.*)/\1 \2 \3 \4/' <<<"$line")"
  echo "${width}x$height: scrollWidth=$scroll clientWidth=$client svgs=$svgs (figures written: $figures) overflowing=$overflowing"
  if [ "$client" -gt "$width" ] || [ "$client" -lt $((width - 20)) ]; then
    echo "FAIL (${width}x$height): the page was laid out $client px wide, not at the width under test"
    status=1
  fi
  if [ "$svgs" -ne "$figures" ]; then
    echo "FAIL (${width}x$height): $svgs plots in the DOM, the report wrote $figures"
    status=1
  fi
  if [ "$scroll" -gt "$client" ] || [ "$overflowing" != none ]; then
    echo "FAIL (${width}x$height): the page overflows horizontally ($scroll > $client px; elements past the edge: $overflowing)"
    status=1
  fi
  if [ ! -s "$work/shot-$width.png" ]; then
    echo "FAIL (${width}x$height): no screenshot"
    status=1
  fi
done
exit $status

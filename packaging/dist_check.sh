#!/usr/bin/env bash
# make dist-check: prove the installers work offline, as on an air-gapped workstation.
# Verifies the checksums, unpacks the .deb into a temporary root and installs the tarball into
# an empty HOME, then with no network at all (unshare -n), an empty environment, no virtualenv
# and no source checkout on any path, runs the frozen programs: --version, demo, inspect on a
# bad file (clear error, exit 2), the bundled name model on a small file, and the window
# offscreen with a screenshot saved to dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
dist="$(pwd)/dist"
version="$(python3 -c 'import tomllib;print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')"
deb="$dist/cloister_${version}_amd64.deb"
tarball="$dist/cloister-${version}-linux-x86_64.tar.gz"
for f in "$deb" "$tarball" "$dist/SHA256SUMS"; do
  [ -f "$f" ] || { echo "dist-check: $f is missing; run 'make dist' first" >&2; exit 2; }
done
start=$(date +%s)
# Each check fails the script on its own: under set -e, a failure on the left of '&&' does not.
fail() { echo "dist-check: $*" >&2; exit 1; }
(cd "$dist" && sha256sum -c --quiet --strict SHA256SUMS) || fail "the artefacts do not match SHA256SUMS"
echo "ok   checksums (SHA256SUMS)"

scratch="$(mktemp -d /tmp/cloister-dist-check.XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/root" "$scratch/home" "$scratch/work"
dpkg-deb -x "$deb" "$scratch/root"
depends="$(dpkg-deb -f "$deb" Depends)"
case "$depends" in *libxcb-cursor0*) ;; *) fail "the .deb does not depend on libxcb-cursor0: $depends" ;; esac
glibc="$(printf '%s\n' "$depends" | grep -o 'libc6 (>= 2\.[0-9]*)' | grep -o '2\.[0-9]*')" ||
  fail "the .deb names no glibc version: $depends"
# The floor read again from the unpacked app: a lower one lets a system install what it cannot run.
needed="$(python3 packaging/glibc_floor.py "$scratch/root/opt/cloister")"
[ "$glibc" = "$needed" ] || fail "the .deb asks for glibc $glibc, but its libraries need $needed"
echo "ok   .deb depends on libxcb-cursor0 and the other Qt libraries, and on glibc >= $glibc"
tar -xzf "$tarball" -C "$scratch/work"
# install.sh refuses root without --system (it would fill root's home): a user's install is
# checked as one, in an empty home, by a user the check can be; setpriv drops root for it.
as_user=()
[ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
chmod 0755 "$scratch" && chown -R 65534:65534 "$scratch/home" 2>/dev/null || true
"${as_user[@]}" env -i HOME="$scratch/home" PATH=/usr/bin:/bin \
  sh "$scratch/work/cloister-${version}-linux-x86_64/install.sh" >/dev/null || fail "install.sh failed"
[ -x "$scratch/home/.local/opt/cloister/cloister" ] || fail "install.sh left no ~/.local/opt/cloister/cloister"
echo "ok   tarball install.sh into ~/.local without root"

# Everything below: no network namespace peers, an empty environment, cwd outside the checkout.
# unshare -n needs root; a packager without it gets a user namespace of their own (-r).
net=(unshare -n); [ "$(id -u)" = 0 ] || net=(unshare -rn)
offline() {
  (cd "$scratch/work" && "${net[@]}" -- env -i HOME="$scratch/home" PATH=/usr/bin:/bin LANG=C.UTF-8 \
     TMPDIR="$scratch/work" "$@")
}
for cli in "$scratch/root/opt/cloister/cloister" "$scratch/home/.local/bin/cloister"; do
  out="$(offline "$cli" --version)"
  [ "$out" = "cloister $version" ] || { echo "dist-check: '$cli --version' printed '$out'" >&2; exit 1; }
done
echo "ok   cloister --version -> cloister $version (deb, and the tarball's ~/.local/bin launcher)"

printf 'text,label\nonly one row,a\n' > "$scratch/work/bad.csv"
set +e
said="$(offline "$scratch/root/opt/cloister/cloister" inspect "$scratch/work/bad.csv" 2>&1)"; code=$?
set -e
[ "$code" = 2 ] || fail "inspect on a bad file exited $code, not 2"
# Exit 2 is also argparse's for a mistyped command: what it says must be about the file.
case "$said" in *bad.csv*) ;; *) fail "inspect on a bad file did not name it: $said" ;; esac
echo "ok   cloister inspect bad.csv -> exit 2"
# The bundled name model (resources/pii/name_model) must load from the frozen folder: the
# lower-case chat name and the organization are what the rules alone miss.
printf 'text,label\n"hi, this is jake from acme logistics, call me",a\n"order 55 arrived fine",b\n' \
  > "$scratch/work/names.csv"
scan="$(offline "$scratch/root/opt/cloister/cloister" scan --names model --json "$scratch/work/names.csv" \
        2>"$scratch/work/scan.err")" || {
  echo "dist-check: the frozen 'cloister scan --names model' failed:" >&2; cat "$scratch/work/scan.err" >&2; exit 1; }
python3 -c 'import json, sys; f = json.loads(sys.argv[1])["findings"]
sys.exit(not (f.get("PERSON") == 1 and f.get("ORGANIZATION") == 1))' "$scan" || {
  echo "dist-check: the frozen name model did not find the one person and one organization:" >&2
  echo "$scan" >&2; exit 1; }
echo "ok   cloister scan --names model finds a person and an organization offline"
t0=$(date +%s)
offline "$scratch/root/opt/cloister/cloister" demo > "$scratch/work/demo.log" 2>&1 || {
  echo "dist-check: cloister demo failed:" >&2; tail -20 "$scratch/work/demo.log" >&2; exit 1; }
accuracy="$(grep -io 'accuracy[^0-9]*[0-9.]*' "$scratch/work/demo.log" | tail -1)" ||
  fail "cloister demo printed no accuracy: $(tail -5 "$scratch/work/demo.log")"
echo "ok   cloister demo offline in $(( $(date +%s) - t0 )) s: $accuracy"

# Differential privacy frozen: Opacus's per-sample gradients and peft's LoRA adapters (both
# imported lazily, so only a run proves the bundle has them). ε must be spent, not exceeded.
t0=$(date +%s)
offline "$scratch/root/opt/cloister/cloister" demo --dp lora --epochs 1 --json \
  > "$scratch/work/dp.jsonl" 2> "$scratch/work/dp.err" || {
  echo "dist-check: cloister demo --dp lora failed:" >&2; tail -20 "$scratch/work/dp.err" >&2; exit 1; }
eps="$(python3 -c 'import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
steps = [e["epsilon"] for e in events if e.get("event") == "step" and e.get("epsilon") is not None]
assert events[-1].get("event") == "finished" and steps and 5 < steps[-1] <= 8, events[-1]
print(f"{steps[-1]:.2f}")' "$scratch/work/dp.jsonl")" || {
  echo "dist-check: the frozen DP-LoRA demo did not spend its budget:" >&2; tail -3 "$scratch/work/dp.jsonl" >&2; exit 1; }
echo "ok   cloister demo --dp lora offline in $(( $(date +%s) - t0 )) s: ε $eps of 8"

shot="$dist/frozen-window.png"
rm -f "$shot"
offline env QT_QPA_PLATFORM=offscreen CLOISTER_QUIT_AFTER_SHOW=1 CLOISTER_SCREENSHOT="$shot" \
  "$scratch/root/opt/cloister/Cloister" > "$scratch/work/gui.log" 2>&1 || {
  echo "dist-check: the frozen window did not open:" >&2; tail -20 "$scratch/work/gui.log" >&2; exit 1; }
[ -s "$shot" ] || fail "the frozen window saved no screenshot ($shot)"
echo "ok   window opened offscreen; screenshot in $shot"
echo "dist-check passed in $(( $(date +%s) - start )) s"
bash packaging/inputs_hash.sh > packaging/CHECKED  # CI re-runs this check when the inputs change

#!/bin/bash
# moatctl audit verify and audit show (docs/moatctl.md, docs/audit-file-format.md)
# on a small rotated audit set written through the real writer
# (tests/unit/test_audit_file --sample: 12 events, one refuse event with a
# hostile user name, checkpoints every 4 records, rotation at 1500 bytes):
#  - verify accepts the set given oldest first, with the private key or its
#    public half, and prints the counts;
#  - verify names FILE:LINE of an edited byte, a deleted line, files out of
#    order, a truncated file, and refuses a foreign key;
#  - --live accepts a file without its final checkpoint and reports the
#    unsigned tail;
#  - show filters by user, address, event and time, prints escaped text or
#    the matching lines verbatim (--json), refuses a bad time, and reports
#    an unreadable line while still showing the others.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"

MOATCTL=$(moat_bin moatctl)
WRITER=$MOAT_BUILD_DIR/tests/test_audit_file
[[ -x "$WRITER" ]] || moat_fail "$WRITER is not built"
A=$T/audit
install -d -m 0700 "$A"
"$WRITER" --sample "$A" || moat_fail "cannot write the sample audit set"
cd "$A"
SET=$(ls audit.jsonl* | sort -t. -k3,3nr | tr '\n' ' ')	# .N ... .1, then the live file
# shellcheck disable=SC2206
FILES=($SET)
((${#FILES[@]} >= 3)) || moat_fail "expected a rotated set, got: $SET"
LAST=${FILES[-1]}
KEY=$A/audit.key

verify()
{
	"$MOATCTL" audit verify "$@" >"$T/out" 2>&1
}
out_has()
{
	grep -qF -- "$1" "$T/out" || { cat "$T/out"; return 1; }
}

moat_check "verify: the set oldest first" verify --key "$KEY" "${FILES[@]}"
moat_check "verify: counts" out_has "audit: 27 records, 9 checkpoints, chain intact (seq 1-27)"
openssl pkey -in "$KEY" -pubout -out "$T/audit.pub" 2>/dev/null
moat_check "verify: with the public key" verify --key "$T/audit.pub" "${FILES[@]}"
moat_check "verify: exactly one line of output" test "$(wc -l <"$T/out")" = 1

# Out of order: the two oldest swapped.
moat_check_fails "verify: files out of order" verify --key "$KEY" "${FILES[1]}" \
    "${FILES[0]}" "${FILES[@]:2}"
moat_check "verify: names the file and line" out_has "audit: ${FILES[0]}:1: broken link between files"

mkdir "$T/t"
tamper()	# tamper NAME SED-SCRIPT: a copy of the set with one file changed
{
	rm -f "$T/t"/*
	cp "${FILES[@]}" "$T/t/"
	sed -i "$2" "$T/t/$1"
}
set_t()
{
	local f
	for f in "${FILES[@]}"; do printf '%s\n' "$T/t/$f"; done
}
mapfile -t TF < <(set_t)

tamper "${FILES[1]}" '3s/"user":"alice"/"user":"alicf"/;3s/"user":"bob"/"user":"bou"/'
moat_check_fails "verify: an edited byte" verify --key "$KEY" "${TF[@]}"
moat_check "verify: names the edited record" out_has "$T/t/${FILES[1]}:3: record modified"

tamper "${FILES[1]}" '2d'
moat_check_fails "verify: a deleted line" verify --key "$KEY" "${TF[@]}"
moat_check "verify: names the line after the hole" out_has "$T/t/${FILES[1]}:2: seq"

tamper "$LAST" '$d'
moat_check_fails "verify: truncated (last record gone)" verify --key "$KEY" "${TF[@]}"
moat_check "verify: says truncated or still open" out_has "truncated or still open after record"
moat_check "verify --live: accepts an open file" verify --live --key "$KEY" "${TF[@]}"
moat_check "verify --live: reports the unsigned tail" out_has "unsigned tail of 2 records"

rm -f "$T/t"/*
cp "${FILES[@]}" "$T/t/"
truncate -s -7 "$T/t/$LAST"
moat_check_fails "verify: a torn last line" verify --key "$KEY" "${TF[@]}"
moat_check "verify: says torn" out_has "truncated record (the last line has no newline)"

openssl genpkey -algorithm ed25519 -out "$T/other.key" 2>/dev/null
moat_check_fails "verify: another key" verify --key "$T/other.key" "${FILES[@]}"
moat_check "verify: names the foreign signature" out_has "not by the key given"
moat_check_fails "verify: no configuration and no --key" verify -f "$T/none.conf" "${FILES[@]}"
moat_check "verify: says to name the key" out_has "name the key with --key"

# --- show ---
show()
{
	"$MOATCTL" audit show "$@" >"$T/out" 2>"$T/err"
}
moat_check "show --user alice" show --user alice "${FILES[@]}"
moat_check_eq "show --user alice: six events" 6 "$(wc -l <"$T/out")"
moat_check "show --user alice: only alice" test "$(grep -c ' user=alice ' "$T/out")" = 6

moat_check "show --event refuse" show --event refuse "${FILES[@]}"
moat_check_eq "show: escaped text" \
    '2026-11-24T10:00:00.000Z #26 refuse session=0 peer_addr=192.0.2.7 peer_port=4242 user="mal\"lory\u001b[2J" reason=blacklisted' \
    "$(cat "$T/out")"
moat_check "show: no raw escape byte" bash -c "! grep -q \$'\\e' '$T/out'"

moat_check "show --json --address" show --json --address 10.0.0.3 "${FILES[@]}"
moat_check_eq "show --json: the line verbatim" "$(cat "${FILES[@]}" | grep -F '"peer_addr":"10.0.0.3"')" \
    "$(cat "$T/out")"

moat_check "show --since --until --event" show --event connect \
    --since 2026-11-23T01:02:05Z --until 2026-11-23T01:02:08.000Z "${FILES[@]}"
moat_check_eq "show: time range (since inclusive, until exclusive)" "5 7" \
    "$(grep -o ' n=[0-9]*' "$T/out" | tr -d ' n=' | tr '\n' ' ' | sed 's/ $//')"
moat_check_fails "show: a bad time" show --since 2026-11-23 "${FILES[@]}"

cp "$LAST" "$T/bad.jsonl"
printf '{"nested":{"a":1}}\n' >>"$T/bad.jsonl"
moat_check_fails "show: an unreadable line fails" show --event refuse "$T/bad.jsonl"
moat_check "show: and says where" grep -qF "bad.jsonl:$(wc -l <"$T/bad.jsonl"): not a valid record" "$T/err"
moat_check_eq "show: the other lines still shown" 1 "$(wc -l <"$T/out")"

moat_test_end

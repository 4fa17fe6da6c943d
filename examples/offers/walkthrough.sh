#!/usr/bin/env bash
# The walkthrough of README.md, run for real: a Black Week in Berlin, tier and multi-buy discounts, a referral, a
# win-back coupon, a refund and paying with points, through `orbit` commands on a fresh database.
# Usage: examples/offers/walkthrough.sh [path/to/orbit]   (default: .build/debug/orbit)
set -euo pipefail
orbit="$(realpath "${1:-$(dirname "$0")/../../.build/debug/orbit}")"
cd "$(dirname "$0")"
db="$(mktemp -d)/offers.db"
trap 'rm -rf "$(dirname "$db")"' EXIT

# Prints the command as a reader would type it (without the --rules/--db every command takes), then runs it.
# Quotes and commits print their --explain table; other commands their output.
step() {
    echo
    echo "\$ orbit $*"
    local command=$1
    shift
    case "$command" in
        quote | commit) "$orbit" "$command" --rules rules --db "$db" --explain "$@" 2>&1 >/dev/null ;;
        *) "$orbit" "$command" --rules rules --db "$db" "$@" ;;
    esac
}

echo "# Anna and Cleo sign up in September; Cleo buys once."
"$orbit" replay --rules rules --db "$db" events/customers.ndjson | head -1

step commit --at 2026-09-20T10:00:00Z --order anna-1 carts/anna-september.json
step quote --at 2026-11-26T22:30:00Z carts/anna-shoes.json
step commit --at 2026-11-27T09:00:00Z --order anna-2 carts/anna-shoes.json

echo
echo "# Committing moved the engine's time past Cleo's 75 days without an order: she got a win-back coupon."
code=$("$orbit" customer export cleo --db "$db" | grep -o '"code" : "[^"]*"' | cut -d'"' -f4)
echo "cleo's coupon: $code"

step commit --at 2026-11-28T15:00:00Z --order cleo-1 --coupon "$code" carts/cleo.json
step quote --at 2026-11-28T15:05:00Z --customer ben --coupon "$code" carts/cleo.json
step commit --at 2026-11-29T11:00:00Z --order ben-1 carts/ben-first.json
step refund --at 2026-12-01T10:00:00Z --order anna-2 --refund anna-2-r1 --line 1:1
step commit --at 2026-12-20T10:00:00Z --order anna-3 carts/anna-points.json

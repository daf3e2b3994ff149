#!/usr/bin/env bash
# System packages the report needs: a CJK font for Chinese PDFs and evidence captions, poppler for the PDF tests,
# and HarfBuzz's subsetter, which halves WeasyPrint's time on CJK fonts; chromium for make e2e. Installs only what
# is missing, and only where it can (root with apt-get); elsewhere it says what to install.
set -u
need=()
fc-list 2>/dev/null | grep -qi "wqy-microhei\|WenQuanYi Micro Hei" || need+=(fonts-wqy-microhei)
# Latin fonts the clock-reader tests draw NVR clocks with (a second renderer besides the CJK font).
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need+=(fonts-dejavu-core)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || need+=(libharfbuzz-subset0)
# The browser test (make e2e) drives Debian's chromium: Playwright's own download is not reachable offline.
[ -x /usr/bin/chromium ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${need[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "sysdeps: installing $pkgs" >&2
  (apt-get install -y -qq $pkgs >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $pkgs >/dev/null; }) \
    || echo "sysdeps: could not install $pkgs; PDF tests will skip" >&2
else
  echo "sysdeps: please install $pkgs (PDF reports need a CJK font; PDF tests skip without poppler)" >&2
fi
exit 0

#!/bin/sh
# The app (a CGI program that busybox httpd runs for "/"): like the lab's app.py, it
# picks one of its cats at random and renders the template with it. The cats are
# text, so the page works without the internet.
set -eu

cats='=^..^=
(=^-^=)
(=`ω´=)
ฅ^•ﻌ•^ฅ
(^._.^)ﾉ'

count=$(printf '%s\n' "$cats" | grep -c .)
pick=$(( ${RANDOM:-$$} % count + 1 ))
cat=$(printf '%s\n' "$cats" | sed -n "${pick}p")

printf 'Content-Type: text/html; charset=utf-8\r\n\r\n'
sed "s|{{cat}}|$cat|" /usr/src/app/templates/index.html

#!/usr/bin/env python3
"""For bench/embed.sh: a Qt resource collection file (.qrc) listing every file of a folder, the
input of Qt's resource compiler `rcc`.

    bench/qrc.py FOLDER OUT.qrc [PREFIX]

Each file is listed by its absolute path with its path relative to FOLDER as the alias, under
one <qresource> with PREFIX (default /static, like embed.sh's --prefix=/static/): the form that
CMake's qt_add_resources() writes for a list of files. No compression attributes, so rcc uses
its defaults. Files in sorted order, like literal_tu.py and the xxd -i baseline.
"""
import os
import sys
from xml.sax.saxutils import escape, quoteattr


def main() -> None:
    site, target = os.path.abspath(sys.argv[1]), sys.argv[2]
    prefix = sys.argv[3] if len(sys.argv) > 3 else "/static"
    with open(target, "w", encoding="utf-8") as f:
        f.write("<!DOCTYPE RCC>\n<RCC version=\"1.0\">\n")
        f.write("<qresource prefix=%s>\n" % quoteattr(prefix))
        for folder, dirs, names in os.walk(site):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(folder, name)
                alias = os.path.relpath(path, site)
                f.write("  <file alias=%s>%s</file>\n" % (quoteattr(alias), escape(path)))
        f.write("</qresource>\n</RCC>\n")


if __name__ == "__main__":
    main()

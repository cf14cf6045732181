"""siglink native: record a shared library's C declarations, check a consumer against it.

siglink native manifest LIB.so --header H embeds the manifest in LIB.so's .siglink section
(-o OUT: in a copy; --sidecar: beside it as LIB.so.siglink.json).
siglink native check LIB DECLARATIONS prints the verdict of linking.

Exit codes: 0 done (check: the library links); 1 check found an incompatible change
(siglink.native.link refuses the same library with exit code 127); 2 bad input: a missing,
unreadable or non-ELF file, a library for another architecture or ELF class, a header that
does not preprocess, parse or compile, a header that declares none of the library's functions
(manifest; fewer than a tenth of them: a warning), no declarations, or a library the system's
paths do not have.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def __dir__() -> list[str]:
    return list(__all__)

_MANIFEST_EPILOG = """\
examples:
  siglink native manifest build/libfoo.so.1.2 --header include/foo.h
                        embed the manifest in build/libfoo.so.1.2 (a symlink is followed:
                        the real file is rewritten, the link is kept)
  siglink native manifest libz.so.1 --header /usr/include/zlib.h -o vendor/libz.so.1
                        leave the library alone; write a copy that carries the manifest
  siglink native manifest /usr/lib/x86_64-linux-gnu/libz.so.1 --header zlib.h --sidecar
                        write libz.so.1.siglink.json beside it instead
  siglink native manifest libfoo.so --header foo.h -I include -D FOO_API= --print

Every function the header declares and the library defines is recorded, with sizes,
alignments and struct offsets measured by the C compiler, and ELF symbol versions.
"""

_CHECK_EPILOG = """\
examples:
  siglink native check ./libfoo.so.2 include/foo-1.0.h
                        would a consumer built against foo 1.0 link this library?
  siglink native check z 'unsigned long compressBound(unsigned long n);' \\
      --header /usr/include/zlib.h
                        a system library without a manifest: compare with its header
  siglink native check libsqlite3.so.0 '#include <sqlite3.h>' --json

Problems are listed incompatible first, then those to review, then harmless ones.
exit codes: 0 links; 1 refused (an incompatible change); 2 bad input
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``native manifest`` and ``native check`` to ``sub`` (argparse subparsers).

    >>> parser = argparse.ArgumentParser(prog="siglink")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["native", "check", "z", "app.h", "--header", "zlib.h"])
    >>> args.func.__name__, args.library, args.declarations, args.header
    ('_check', 'z', 'app.h', 'zlib.h')
    """
    group = sub.add_parser("native", help="C shared libraries: manifests and checks",
                           description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = group.add_subparsers(dest="native_command", metavar="SUBCOMMAND")

    manifest = commands.add_parser(
        "manifest", help="record a library's declarations and embed them in it",
        description="Read LIB's dynamic symbols and HEADER's declarations (measured by the C "
        "compiler) and embed the manifest in LIB's .siglink section.",
        epilog=_MANIFEST_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    manifest.add_argument("library", metavar="LIB.so")
    manifest.add_argument("--header", required=True, metavar="H", help="the library's header")
    _cpp_options(manifest)
    manifest.add_argument("--name", help="unit name (default: from the soname)")
    manifest.add_argument("--version", dest="unit_version", metavar="V",
                          help="unit version (default: from the file name or soname)")
    where = manifest.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", metavar="OUT", help="write a copy of LIB with it")
    where.add_argument("--sidecar", action="store_true",
                       help="write LIB.so.siglink.json beside LIB instead")
    manifest.add_argument("--print", dest="print_json", action="store_true",
                          help="also print the manifest as JSON")
    manifest.set_defaults(func=_manifest)

    check = commands.add_parser(
        "check", help="check a consumer's declarations against a library",
        description="Check DECLARATIONS (a header or C text) against LIB, as link() does.",
        epilog=_CHECK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("library", metavar="LIB", help="a path, a soname or a name like z")
    check.add_argument("declarations", metavar="DECLARATIONS")
    check.add_argument("--header", metavar="H",
                       help="the library's header, when the library carries no manifest")
    _cpp_options(check)
    check.add_argument("--json", action="store_true", help="print the verdict as JSON")
    check.set_defaults(func=_check)

    def usage(args: argparse.Namespace) -> int:
        group.print_help()
        return 2

    group.set_defaults(func=usage)


def _cpp_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR",
                        help="add a directory to the include path")
    parser.add_argument("-D", dest="defines", action="append", default=[], metavar="MACRO",
                        help="define a macro (NAME or NAME=VALUE)")


def _manifest(args: argparse.Namespace) -> int:
    from siglink.native import manifest as native_manifest

    # Refuse a library this user cannot rewrite before measuring its header.
    if not args.sidecar:
        native_manifest.embed_target(args.library, args.output)
    built = native_manifest.build(
        args.library,
        args.header,
        include_dirs=args.include_dirs,
        defines=args.defines,
        name=args.name,
        version=args.unit_version,
    )
    if args.sidecar:
        where = f"written to {native_manifest.write_sidecar(args.library, built)}"
    else:
        written = native_manifest.embed(args.library, built, output=args.output)
        where = f"embedded into {written}"
        if args.output is None and Path(args.library).is_symlink():
            where += f" (the symlink {args.library} is kept)"
    native = built.native or {}
    declared, exported = native_manifest.coverage(args.library, built)
    if declared * 10 < exported:  # libraries often export internals; a tenth is low
        from siglink.cli._output import warn

        warn(f"{args.header} declares only {declared} of the {exported} functions "
             f"{args.library} exports; consumers of the others link unverified")
    from siglink.cli._output import print_json, say

    if args.print_json:
        print_json(built.to_json())
    else:
        say(f"{built.unit.name} {built.unit.version}: {len(native['functions'])} functions, "
            f"{len(native['types'])} types, {len(native['constants'])} constants; {where}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from siglink.native.bind import consumer_declarations, find_library
    from siglink.native.cdecl import describe
    from siglink.native.compat import check_library
    from siglink.native.elf import ElfFile, check_loadable
    from siglink.native.manifest import read

    path, requested = find_library(args.library)
    check_loadable(path)
    elf = ElfFile.read(path)
    found = read(path)
    defined = [s.name for s in elf.symbols.values() if s.function and s.linkable]
    expected = consumer_declarations(args.declarations, include_dirs=args.include_dirs,
                                     defines=args.defines, defined=defined)
    provided = None
    if found is not None:
        provided = found[0].native
    elif args.header:
        provided = describe(args.header, text=False, include_dirs=args.include_dirs,
                            defines=args.defines, only=defined)
    verdict = check_library(expected, provided, elf, soname=requested)
    from siglink.cli._output import print_json, say

    if args.json:
        print_json(verdict.to_json())
    else:
        say(f"{path}: {'ok' if verdict.ok else 'refused'}")
        for line in verdict.explain().split("\n"):  # each line inert (Verdict.explain)
            say(line)
    return 0 if verdict.ok else 1

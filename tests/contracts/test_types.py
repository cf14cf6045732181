"""Normal forms and the subtype relation of siglink's types (docs/design.md §3.2), as tables."""

from __future__ import annotations

import pickle

import pytest

from siglink.contracts import types
from siglink.contracts.manifest import Export, ExportKind, Manifest, Unit
from siglink.contracts.types import (
    ANY,
    NONE,
    UNKNOWN,
    ClassGraph,
    Decision,
    TypeContext,
    TypeRef,
    is_subtype,
    parse_type,
    union,
    unverified_parts,
)

Y, N, U = Decision.YES, Decision.NO, Decision.UNVERIFIED

CTX = TypeContext(
    module="pkg.mod",
    names={
        "t": "typing",
        "Seq": "collections.abc.Sequence",
        "Node": "pkg.nodes.Node",
        "Color": "pkg.colors.Color",
        "_t_secret_key": "itsdangerous.signer._t_secret_key",
    },
    aliases={
        "itsdangerous.signer._t_secret_key": (
            "typing.Union[str, bytes, typing.Iterable[typing.Union[str, bytes]]]"
        ),
        "pkg.mod.Pair": "tuple[T, T]",
        "pkg.mod.Loop": "list[Loop]",
        "pkg.mod.Mode": "Literal['r', 'w']",
    },
    typevars=frozenset({"pkg.mod.T", "pkg.mod.P"}),
)

NORMAL_FORMS = [
    # typing aliases are their origins
    ("typing.List[int]", "list[int]"),
    ("List[int]", "list[int]"),
    ("t.List[int]", "list[int]"),
    ("typing.Dict[str, typing.Set[int]]", "dict[str, set[int]]"),
    ("typing.FrozenSet[str]", "frozenset[str]"),
    ("typing.Type[int]", "type[int]"),
    ("typing.Text", "str"),
    ("typing.Sequence[int]", "collections.abc.Sequence[int]"),
    ("typing_extensions.Sequence[int]", "collections.abc.Sequence[int]"),
    ("Seq[int]", "collections.abc.Sequence[int]"),
    ("typing.AbstractSet[int]", "collections.abc.Set[int]"),
    ("typing.Deque[int]", "collections.deque[int]"),
    ("typing.NoReturn", "typing.Never"),
    ("builtins.int", "int"),
    ("t.Any", "typing.Any"),
    # unqualified typing/collections.abc names and builtins
    ("Mapping[str, Iterator[int]]", "collections.abc.Mapping[str, collections.abc.Iterator[int]]"),
    ("Iterable[int]", "collections.abc.Iterable[int]"),
    ("Any", "typing.Any"),
    # None
    ("None", "None"),
    ("NoneType", "None"),
    ("types.NoneType", "None"),
    ("type(None)", "None"),
    # unions: flattened, deduplicated, ordered, None last
    ("Optional[int]", "int | None"),
    ("Union[int, None]", "int | None"),
    ("None | int", "int | None"),
    ("Union[str, Union[int, bytes]]", "bytes | int | str"),
    ("int | str | int", "int | str"),
    ("Union[int]", "int"),
    ("Optional[Optional[int]]", "int | None"),
    ("t.Optional[t.List[Node]]", "list[pkg.nodes.Node] | None"),
    # forward references and string annotations
    ("'int'", "int"),
    ("List['Node']", "list[pkg.nodes.Node]"),
    ("Optional['List[\"Local\"]']", "list[pkg.mod.Local] | None"),
    ("Local", "pkg.mod.Local"),
    ("pkg.other.Thing", "pkg.other.Thing"),
    # bare generics are their implied arguments, written bare
    ("list[Any]", "list"),
    ("Dict[Any, Any]", "dict"),
    ("dict[str, Any]", "dict[str, typing.Any]"),
    ("Tuple[Any, ...]", "tuple"),
    ("Type[Any]", "type"),
    ("Callable[..., Any]", "collections.abc.Callable"),
    ("Generator[int]", "collections.abc.Generator[int, None, None]"),
    ("Generator[Any, None, None]", "collections.abc.Generator"),
    ("memoryview[int]", "memoryview"),
    # tuples and callables
    ("Tuple[int, ...]", "tuple[int, ...]"),
    ("Tuple[()]", "tuple[()]"),
    ("tuple[int, str]", "tuple[int, str]"),
    ("Callable[[int, str], bool]", "collections.abc.Callable[[int, str], bool]"),
    ("Callable[[], None]", "collections.abc.Callable[[], None]"),
    ("typing.Callable[..., int]", "collections.abc.Callable[..., int]"),
    ("Callable[P, T]", "collections.abc.Callable[~pkg.mod.P, ~pkg.mod.T]"),
    (
        "Callable[Concatenate[int, P], T]",
        "collections.abc.Callable[typing.Concatenate[int, ~pkg.mod.P], ~pkg.mod.T]",
    ),
    # Literal
    ("Literal['a', 1]", "typing.Literal['a', 1]"),
    ("Literal[1] | Literal[2, 1]", "typing.Literal[1, 2]"),
    ("Literal[None]", "None"),
    ("Optional[Literal[-1]]", "typing.Literal[-1] | None"),
    ("Literal[True, b'x']", "typing.Literal[True, b'x']"),
    ("Literal[Color.RED]", "typing.Literal[pkg.colors.Color.RED]"),
    ("Literal[Mode, 'x']", "typing.Literal['r', 'w', 'x']"),
    # qualifiers and metadata are dropped
    ("Annotated[int, 'meta']", "int"),
    ("ClassVar[int]", "int"),
    ("t.Final[str]", "str"),
    ("typing.NotRequired[int]", "int"),
    # aliases, TypeVars, ParamSpecs
    ("_t_secret_key", "bytes | collections.abc.Iterable[bytes | str] | str"),
    ("Pair[int]", "tuple[int, int]"),
    ("T", "~pkg.mod.T"),
    ("list[T]", "list[~pkg.mod.T]"),
    ("P.args", "~pkg.mod.P"),
    ("typing.AnyStr", "~typing.AnyStr"),
    ("typing.Self", "~typing.Self"),
    ("Literal[Literal[1], None]", "typing.Literal[1] | None"),
    (
        "Callable[Concatenate[int, ...], str]",
        "collections.abc.Callable[typing.Concatenate[int, ...], str]",
    ),
    # whatever cannot be read is unknown, only where it occurs
    ("Callable[int, str]", "unknown"),
    ("Callable[[int], str, bytes]", "unknown"),
    ("Pair[int, str]", "unknown"),
    ("Literal[1 + 2]", "unknown"),
    ("Union[int, ...]", "int | unknown"),
    ("list[", "unknown"),
    ("", "unknown"),
    ("1 +", "unknown"),
    ("foo()", "unknown"),
    ("Optional", "unknown"),
    ("lambda: 0", "unknown"),
    ("list[foo()]", "list[unknown]"),
    ("Literal[1.5]", "unknown"),
    ("list[int, str]", "unknown"),
    ("int[str]", "unknown"),
    ("Loop", "list[unknown]"),
    ("unknown", "unknown"),
    ("Union[int, 'list[']", "int | unknown"),
]


@pytest.mark.parametrize(("text", "expected"), NORMAL_FORMS)
def test_normal_form(text: str, expected: str) -> None:
    t = parse_type(text, CTX)
    assert str(t) == expected
    assert parse_type(str(t)) == t  # the canonical text needs no context


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("typing.List[int]", "list[int]"),
        ("Optional[int]", "int | None"),
        ("Union[str, int]", "int | str"),
        ("typing.Sequence[str]", "collections.abc.Sequence[str]"),
        ("Tuple[int, ...]", "tuple[int, ...]"),
        ("list", "list[Any]"),
        ("Callable", "Callable[..., Any]"),
    ],
)
def test_spellings_of_one_type_are_equal(a: str, b: str) -> None:
    assert parse_type(a) == parse_type(b)
    assert hash(parse_type(a)) == hash(parse_type(b))


@pytest.mark.parametrize("depth", [1, 40, 150, 400])
def test_deep_nesting_never_raises(depth: int) -> None:
    text = "list[" * depth + "int" + "]" * depth
    t = parse_type(text)
    assert t == UNKNOWN or str(t) == text
    quoted = "Optional[" * depth + "'int'" + "]" * depth
    assert parse_type(quoted) in (UNKNOWN, parse_type("int | None"))


def test_canonical_text_parses_without_context() -> None:
    t = parse_type("Callable[[Optional[Node]], Dict[str, Literal['x', 2]]]", CTX)
    assert parse_type(str(t)) == t
    assert repr(t) == f"parse_type({str(t)!r})"


def test_typeref_shapes() -> None:
    t = parse_type("Optional[list[int]]")
    assert t.name == "typing.Union" and t.args == (TypeRef("list", (TypeRef("int"),)), NONE)
    assert t.is_union and not t.is_any and t.members == t.args
    assert ANY.is_any and UNKNOWN.is_unknown and NONE.is_none
    assert parse_type("~pkg.T").is_typevar
    assert parse_type("tuple[int, ...]").args == (TypeRef("int"), types.ELLIPSIS)
    assert parse_type("tuple[()]").args == (types.EMPTY_TUPLE,)
    assert parse_type("Callable[..., int]").args == (types.ELLIPSIS, TypeRef("int"))
    assert parse_type("Literal[3]").args == (TypeRef("int", value="3"),)


def test_unions_normalize_when_built() -> None:
    assert union(TypeRef("int")) == TypeRef("int")
    assert union() == types.NEVER
    assert TypeRef("typing.Union", (NONE, TypeRef("str"), TypeRef("str"))) == parse_type(
        "Optional[str]"
    )
    with pytest.raises(TypeError, match="non-empty str"):
        TypeRef("")


def test_values_are_hashable_and_pickle() -> None:
    ctx = TypeContext(module="m", names={"x": "y"}, typevars=frozenset({"m.T"}))
    graph = ClassGraph({"m.A": ["m.B"]})
    assert hash(ctx) == hash(TypeContext(module="m", names={"x": "y"}, typevars={"m.T"}))  # type: ignore[arg-type]
    assert ctx.names == {"x": "y"}
    t = parse_type("dict[str, list[m.A]] | None")
    for value in (ctx, graph, t):
        assert pickle.loads(pickle.dumps(value)) == value
        assert hash(pickle.loads(pickle.dumps(value))) == hash(value)
    assert graph == ClassGraph({"m.A": ("m.B",)}) and graph != ClassGraph()


def test_public_surface() -> None:
    assert set(types.__all__) <= set(dir(types))
    assert dir(types) == sorted(types.__all__)
    for name in types.__all__:
        assert getattr(types, name) is not None


SUBTYPES = [
    # (sub, sup, sub <: sup, sup <: sub)
    # the numeric tower
    ("bool", "int", Y, N),
    ("int", "float", Y, N),
    ("float", "complex", Y, N),
    ("bool", "complex", Y, N),
    ("Literal[1]", "float", Y, N),
    ("str", "int", N, N),
    # the builtin exceptions, as typeshed declares them
    ("KeyError", "LookupError", Y, N),
    ("KeyError", "Exception", Y, N),
    ("KeyboardInterrupt", "Exception", N, N),
    ("type[UnicodeDecodeError]", "type[ValueError]", Y, N),
    ("ValueError | TypeError", "Exception", Y, N),
    # everything <: object
    ("list[int]", "object", Y, N),
    ("None", "object", Y, N),
    ("Callable[[int], str]", "object", Y, N),
    ("Any", "object", Y, U),
    # Any and unknown are consistent both ways, unverified
    ("Any", "int", U, U),
    ("unknown", "str", U, U),
    ("list[Any]", "list[int]", U, U),
    ("dict[str, Any]", "Mapping[str, int]", U, N),
    ("Any", "Any", Y, Y),
    ("unknown", "unknown", U, U),  # two unreadable annotations need not be the same
    ("list[unknown]", "list[unknown]", U, U),
    # unions
    ("int", "int | str", Y, N),
    ("int | str", "int | str | None", Y, N),
    ("bool | int", "float", Y, N),
    ("None", "Optional[int]", Y, N),
    ("int | bytes", "int | str", N, N),
    ("list[int] | tuple[int, ...]", "Sequence[int]", Y, N),
    ("int", "str | Any", U, N),
    # covariant read-only containers
    ("Sequence[bool]", "Sequence[int]", Y, N),
    ("Iterable[bool]", "Iterable[int]", Y, N),
    ("Iterator[bool]", "Iterator[int]", Y, N),
    ("Collection[bool]", "Collection[int]", Y, N),
    ("Reversible[bool]", "Reversible[int]", Y, N),
    ("Container[bool]", "Container[int]", Y, N),
    ("Mapping[str, bool]", "Mapping[str, int]", Y, N),
    ("Mapping[bool, int]", "Mapping[int, int]", N, N),  # keys are invariant
    ("tuple[bool, ...]", "tuple[int, ...]", Y, N),
    ("tuple[bool, str]", "tuple[int, str]", Y, N),
    ("frozenset[bool]", "frozenset[int]", Y, N),
    ("AbstractSet[bool]", "AbstractSet[int]", Y, N),
    ("type[bool]", "type[int]", Y, N),
    ("Awaitable[bool]", "Awaitable[int]", Y, N),
    ("Coroutine[None, None, bool]", "Coroutine[None, None, int]", Y, N),
    ("Coroutine[None, int, None]", "Coroutine[None, bool, None]", Y, N),  # send: contravariant
    ("Generator[bool, None, None]", "Generator[int, None, None]", Y, N),
    ("Generator[None, None, bool]", "Generator[None, None, int]", Y, N),
    ("Generator[None, int, None]", "Generator[None, bool, None]", Y, N),
    ("AsyncIterator[bool]", "AsyncIterable[int]", Y, N),
    # invariant mutable containers
    ("list[bool]", "list[int]", N, N),
    ("dict[str, bool]", "dict[str, int]", N, N),
    ("set[bool]", "set[int]", N, N),
    ("MutableSequence[bool]", "MutableSequence[int]", N, N),
    ("MutableMapping[str, bool]", "MutableMapping[str, int]", N, N),
    ("MutableSet[bool]", "MutableSet[int]", N, N),
    ("list[bool | int]", "list[int]", Y, Y),  # equivalent arguments
    # Callable: parameters contravariant, return covariant, recursively
    ("Callable[[int], bool]", "Callable[[bool], int]", Y, N),
    ("Callable[[int], int]", "Callable[[int, int], int]", N, N),
    ("Callable[[], int]", "Callable[[], None]", N, N),
    ("Callable[[Callable[[bool], None]], None]", "Callable[[Callable[[int], None]], None]", Y, N),
    ("Callable[..., int]", "Callable[[str], int]", U, U),
    ("Callable[..., bool]", "Callable[..., int]", Y, N),
    ("Callable[..., int]", "Callable[[str], str]", N, N),
    ("Callable[[int], str]", "Callable", U, U),
    ("Callable[P, int]", "Callable[[int], int]", U, U),
    ("type[int]", "Callable[..., int]", U, N),  # a constructor's signature is not recorded
    ("Callable[[int], str]", "int", N, N),
    # Literal
    ("Literal[1]", "int", Y, N),
    ("Literal['a']", "str", Y, N),
    ("Literal[True]", "int", Y, N),
    ("Literal[b'x']", "bytes", Y, N),
    ("Literal[1]", "Literal[1, 2]", Y, N),
    ("Literal['a']", "int", N, N),
    ("Literal[1, 'a']", "int | str", Y, N),
    ("bool", "Literal[True, False]", Y, Y),
    ("Literal['a']", "Sequence[str]", Y, N),
    # typeshed's builtin and standard-library classes
    ("str", "Sequence[str]", Y, N),
    ("str", "Sequence[int]", N, N),
    ("str", "Container[str]", Y, N),
    ("bytes", "Sequence[int]", Y, N),
    ("bytearray", "MutableSequence[int]", Y, N),
    ("bytearray", "bytes", N, N),
    ("memoryview", "Sequence[int]", Y, N),
    ("memoryview", "bytes", N, N),
    ("range", "Sequence[int]", Y, N),
    ("tuple[int, ...]", "Sequence[int]", Y, N),
    ("tuple[int, str]", "Sequence[int | str]", Y, N),
    ("tuple[int, str]", "Sequence[int]", N, N),
    ("tuple[()]", "Sequence[str]", Y, N),
    ("list[int]", "MutableSequence[int]", Y, N),
    ("MutableSequence[int]", "Sequence[int]", Y, N),
    ("Sequence[int]", "Reversible[int]", Y, N),
    ("Sequence[int]", "Collection[int]", Y, N),
    ("Collection[int]", "Iterable[int]", Y, N),
    ("list[bool]", "Iterable[int]", Y, N),
    ("dict[str, int]", "MutableMapping[str, int]", Y, N),
    ("MutableMapping[str, int]", "Mapping[str, int]", Y, N),
    ("Mapping[str, int]", "Collection[str]", Y, N),
    ("dict[str, int]", "Iterable[str]", Y, N),
    ("dict[str, int]", "Iterable[int]", N, N),
    ("set[int]", "MutableSet[int]", Y, N),
    ("MutableSet[int]", "AbstractSet[int]", Y, N),
    ("frozenset[int]", "AbstractSet[int]", Y, N),
    ("frozenset[int]", "set[int]", N, N),
    ("collections.deque[int]", "MutableSequence[int]", Y, N),
    ("collections.OrderedDict[str, bool]", "Mapping[str, int]", Y, N),
    ("collections.Counter[str]", "dict[str, int]", Y, N),
    ("Generator[int, None, None]", "Iterator[int]", Y, N),
    ("Coroutine[None, None, int]", "Awaitable[int]", Y, N),
    ("KeysView[str]", "AbstractSet[str]", Y, N),
    ("typing.ItemsView[str, int]", "AbstractSet[tuple[str, int]]", Y, N),
    # Hashable, Sized, Container
    ("int", "Hashable", Y, N),
    ("tuple[int]", "Hashable", Y, N),
    ("frozenset[int]", "Hashable", Y, N),
    ("None", "Hashable", Y, N),
    ("Mapping[str, int]", "Hashable", Y, N),
    ("list[int]", "Hashable", N, N),
    ("dict[str, int]", "Hashable", N, N),
    ("collections.OrderedDict[str, int]", "Hashable", N, N),
    ("Iterable[int]", "Hashable", N, N),  # a Protocol: mypy finds no __hash__
    ("list[int]", "Sized", Y, N),
    ("int", "Sized", N, N),
    ("int", "typing.SupportsIndex", Y, N),
    ("float", "typing.SupportsIndex", N, N),
    ("float", "typing.SupportsInt", Y, N),
    # type
    ("type[int]", "type", Y, U),
    ("type[int | str]", "type[object]", Y, N),
    ("type[int]", "int", N, N),
    # bare generics mean Any arguments
    ("list", "list[int]", U, U),
    ("Sequence", "Iterable[int]", U, N),
    ("tuple", "tuple[int]", U, U),
    ("tuple[int, str]", "tuple", U, U),
    ("Generator", "Iterator[int]", U, N),
    # tuples
    ("tuple[int, str]", "tuple[int, str | None]", Y, N),
    ("tuple[()]", "tuple[int, ...]", Y, N),
    ("tuple[int]", "tuple[int, int]", N, N),
    ("tuple[int, ...]", "tuple[int, int]", N, Y),
    # Never
    ("typing.Never", "int", Y, N),
    ("typing.NoReturn", "None", Y, N),
    # TypeVars and ParamSpecs are unverified until unified
    ("~pkg.T", "int", U, U),
    ("~pkg.T", "~pkg.T", Y, Y),
    ("list[~pkg.T]", "Sequence[~pkg.T]", Y, N),
    ("list[~pkg.T]", "list[int]", U, U),
    ("~pkg.T", "object", Y, U),
    ("~pkg.T", "~pkg.T | None", Y, U),
]


@pytest.mark.parametrize(("sub", "sup", "forward", "backward"), SUBTYPES)
def test_subtype(sub: str, sup: str, forward: Decision, backward: Decision) -> None:
    a, b = parse_type(sub, CTX), parse_type(sup, CTX)
    assert (a.is_unknown or b.is_unknown) == ("unknown" in (sub, sup))
    assert unverified_parts(a) or unverified_parts(b) or U not in (forward, backward)
    assert is_subtype(a, b) is forward
    assert is_subtype(b, a) is backward


GRAPH = ClassGraph(
    {
        "zoo.Animal": ["object"],
        "zoo.Dog": ["zoo.Animal"],
        "zoo.Puppy": ["zoo.Dog", "zoo.Pet"],
        "zoo.Pet": [],
        "zoo.Registry": ["dict[str, zoo.Animal]"],
        "zoo.Box": ["typing.Generic[~zoo.T]"],
        "zoo.DogBox": ["zoo.Box[zoo.Dog]"],
        "zoo.Pair": ["tuple[int, str]"],
        "zoo.Color": ["enum.Enum"],
        "zoo.Big": ["int"],
        "zoo.Stack": ["list[~zoo.T]"],
        "zoo.Loop": ["zoo.Knot"],
        "zoo.Knot": ["zoo.Loop"],
    }
)

USER_CLASSES = [
    ("zoo.Dog", "zoo.Animal", Y, N),
    ("zoo.Puppy", "zoo.Animal", Y, N),  # transitively
    ("zoo.Puppy", "zoo.Pet", Y, N),
    ("zoo.Dog", "zoo.Pet", N, N),
    ("zoo.Dog", "zoo.Unrecorded", N, N),
    ("zoo.Registry", "Mapping[str, zoo.Animal]", Y, N),
    ("zoo.Registry", "Mapping[str, zoo.Dog]", N, N),
    ("zoo.DogBox", "zoo.Box[zoo.Dog]", Y, N),
    ("zoo.DogBox", "zoo.Box[zoo.Animal]", N, N),  # variance unknown: invariant
    ("zoo.Box[zoo.Dog]", "zoo.Box[zoo.Dog]", Y, Y),
    ("zoo.Box", "zoo.Box[zoo.Dog]", U, U),
    ("zoo.Stack[int]", "Sequence[int]", Y, N),
    ("zoo.Stack[int]", "Sequence[str]", N, N),
    ("zoo.Pair", "tuple[int, str]", Y, N),
    ("zoo.Pair", "Sequence[int | str]", Y, N),
    ("zoo.Big", "float", Y, N),
    ("zoo.Dog", "Hashable", Y, N),
    ("zoo.Registry", "Hashable", N, N),
    ("Literal[zoo.Color.RED]", "zoo.Color", Y, N),
    ("Literal[zoo.Color.RED]", "enum.Enum", Y, N),
    ("Literal[zoo.Color.RED]", "Literal[zoo.Color.RED, zoo.Color.BLUE]", Y, N),
    ("zoo.Loop", "zoo.Knot", Y, Y),  # a cycle in recorded bases ends
    ("zoo.Loop", "zoo.Animal", N, N),
]


@pytest.mark.parametrize(("sub", "sup", "forward", "backward"), USER_CLASSES)
def test_user_class_subtype(sub: str, sup: str, forward: Decision, backward: Decision) -> None:
    a, b = parse_type(sub), parse_type(sup)
    assert is_subtype(a, b, GRAPH) is forward
    assert is_subtype(b, a, GRAPH) is backward


def test_user_classes_need_their_bases_recorded() -> None:
    assert is_subtype(parse_type("zoo.Dog"), parse_type("zoo.Animal")) is N
    assert is_subtype(parse_type("zoo.Dog"), parse_type("zoo.Dog")) is Y
    assert GRAPH.bases("zoo.Dog") == (parse_type("zoo.Animal"),)
    assert "zoo.Dog" in GRAPH and "zoo.Cat" not in GRAPH


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("int", False),
        ("list[int]", False),
        ("Callable[[int], str]", False),
        ("Any", True),
        ("unknown", True),
        ("list", True),
        ("dict[str, Any]", True),
        ("Optional[~pkg.T]", True),
        ("Callable[..., int]", True),
        ("Callable[P, int]", True),
        ("memoryview", False),  # bare, but its parameter defaults to int
        ("tuple[()]", False),
        ("tuple[int, ...]", False),
    ],
)
def test_unverified_parts(text: str, expected: bool) -> None:
    assert unverified_parts(parse_type(text, CTX)) is expected


def test_manifest_round_trips_types() -> None:
    texts = [
        "Optional[Dict[str, List[int]]]",
        "Callable[[int, Optional[str]], Literal['a', 1]]",
        "tuple[()]",
        "Tuple[int, ...]",
        "~pkg.T",
        "Any",
        "unknown",
        "Literal[pkg.colors.Color.RED] | bytes",
    ]
    exports = {
        f"pkg.v{i}": Export(path=f"pkg.v{i}", kind=ExportKind.ATTRIBUTE, type=parse_type(text))
        for i, text in enumerate(texts)
    }
    manifest = Manifest(unit=Unit("pkg", "1.0"), exports=exports)
    back = Manifest.loads(manifest.dumps())
    for path, export in exports.items():
        assert back.exports[path].type == export.type
        assert back.exports[path].digest == export.digest


def test_the_typeshed_table_reads_its_defaults_as_the_parser_does() -> None:
    """The table reads its parameters' defaults itself (the parser reads the table)."""
    import re

    from siglink.contracts import _typeparse, _typeshed_table

    texts = re.findall(r"=([^,\]]+)", _typeshed_table._TABLE)
    assert {t.strip() for t in texts} == {"None", "bool | None", "int"}
    for text in texts:
        assert _typeshed_table._default(text) == _typeparse.parse(text), text

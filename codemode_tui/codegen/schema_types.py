"""JSON Schema -> Python type expressions and ``TypedDict`` definitions.

The converter never copies text from a schema into an expression: type
expressions are built only from identifiers it made itself (``CamelCase``
names derived through :func:`codemode_tui.names.sanitize_identifier`), builtin
and ``typing`` names, and ``repr`` of literal values.  Whatever it cannot
express precisely becomes ``Any`` (or ``dict[str, Any]``) with a note the
renderer turns into a fixed-text comment; it never raises on a schema.

Supported: string, number, integer, boolean, null; arrays (``items``,
``prefixItems``, tuple ``items``); objects with ``properties`` (``TypedDict``,
required vs ``NotRequired``), ``additionalProperties``/``patternProperties``
(``dict[str, X]``); ``enum``/``const`` (``Literal``); ``type`` lists; ``anyOf``/
``oneOf`` (unions); ``allOf`` (merged objects); OpenAPI ``nullable``; local
``$ref`` into ``$defs``/``definitions`` or any JSON pointer, recursive ones
included (named ``TypedDict``s or ``TypeAlias``es that refer to themselves).
"""

from __future__ import annotations

import functools
import json
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..names import sanitize_identifier
from .literals import is_literal_value, string_literal

# Names a generated module binds or uses in annotations: a generated type may not take them.
TYPING_NAMES = ("Any", "Literal", "NotRequired", "TypeAlias", "TypedDict")
BUILTIN_TYPE_NAMES = ("str", "int", "float", "bool", "dict", "list", "None", "True", "False")
RESERVED_TYPE_NAMES = frozenset({*TYPING_NAMES, *BUILTIN_TYPE_NAMES, "Required", "MISSING"})

MAX_DEPTH = 48
MAX_LITERALS = 256
MAX_NAME_LENGTH = 96
_ANNOTATION_KEYS = frozenset(
    {"$ref", "description", "title", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly"}
)
_TYPE_INFO_KEYS = frozenset(
    {
        "type",
        "properties",
        "enum",
        "const",
        "$ref",
        "items",
        "prefixItems",
        "additionalProperties",
        "patternProperties",
        "anyOf",
        "oneOf",
        "allOf",
    }
)
_MISSING: Any = object()


@dataclass(frozen=True)
class TypeExpr:
    """A Python type expression as union members, with the generated names it uses.

    ``refs`` are every generated name in the expression; ``bare_refs`` those at
    the top of the union (not inside ``list[...]``/``dict[...]``), which is what
    decides whether a recursive alias is legal.  ``notes`` are fixed-text
    explanations of fallbacks, shown as comments.
    """

    members: tuple[str, ...]
    refs: frozenset[str] = frozenset()
    bare_refs: frozenset[str] = frozenset()
    notes: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " | ".join(self.members)

    @property
    def is_any(self) -> bool:
        return self.members == ("Any",)

    def with_note(self, note: str) -> TypeExpr:
        return TypeExpr(self.members, self.refs, self.bare_refs, _merge_notes(self.notes, (note,)))


ANY = TypeExpr(("Any",))
NONE = TypeExpr(("None",))


def _merge_notes(*groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(note for group in groups for note in group))


def any_type(note: str | None = None) -> TypeExpr:
    """``Any``, optionally saying why the schema was not expressible."""
    return ANY.with_note(note) if note else ANY


def simple(text: str) -> TypeExpr:
    return TypeExpr((text,))


def named(name: str) -> TypeExpr:
    return TypeExpr((name,), frozenset({name}), frozenset({name}))


def generic(template: str, *args: TypeExpr) -> TypeExpr:
    """``template`` (with ``{}`` per argument) around the arguments' text, e.g. ``list[{}]``."""
    text = template.format(*(arg.text for arg in args))
    refs = frozenset().union(*(arg.refs for arg in args)) if args else frozenset()
    return TypeExpr((text,), refs, frozenset(), _merge_notes(*(arg.notes for arg in args)))


def union(exprs: Iterable[TypeExpr]) -> TypeExpr:
    """The union of ``exprs``: flattened, de-duplicated, ``None`` last; ``Any`` absorbs the rest."""
    exprs = list(exprs)
    notes = _merge_notes(*(expr.notes for expr in exprs))
    if not exprs:
        return any_type()
    members: dict[str, None] = {}
    for expr in exprs:
        for member in expr.members:
            members[member] = None
    if "Any" in members:
        return TypeExpr(("Any",), notes=notes)
    has_none = members.pop("None", _MISSING) is not _MISSING
    ordered = (*members, "None") if has_none else tuple(members)
    refs = frozenset().union(*(expr.refs for expr in exprs))
    bare = frozenset().union(*(expr.bare_refs for expr in exprs))
    return TypeExpr(ordered, refs, bare, notes)


def camel_name(text: str, *, fallback: str = "type") -> str:
    """A ``CamelCase`` identifier for ``text`` (untrusted), always starting with a capital."""
    return _camel_cached(text, fallback) if len(text) <= 256 else _camel(text, fallback)


def _camel(text: str, fallback: str) -> str:
    ident = sanitize_identifier(text, fallback=fallback)
    name = "".join(part[:1].upper() + part[1:] for part in ident.split("_") if part)
    if not name:
        name = fallback.capitalize()
    if not name[0].isalpha():
        name = f"T{name}"
    return name


_camel_cached = functools.lru_cache(maxsize=8192)(_camel)


@dataclass
class FieldDef:
    """One key of a ``TypedDict``."""

    key: str
    type: TypeExpr
    required: bool
    description: str = ""
    default: Any = _MISSING

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING


@dataclass
class TypedDictDef:
    """A named object type: ``class Name(TypedDict)`` (or the functional form)."""

    name: str
    fields: list[FieldDef] = field(default_factory=list)
    description: str = ""
    document_keys: bool = True


@dataclass
class AliasDef:
    """A named non-object type: ``Name: TypeAlias = ...``."""

    name: str
    type: TypeExpr = ANY


Definition = TypedDictDef | AliasDef


class TypeNamespace:
    """The generated type names of one module, and their definitions in order.

    ``reserved`` names (the parameters of the module's functions, say) are never
    given to a type, so an annotation can never be shadowed.
    """

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._taken: set[str] = set(RESERVED_TYPE_NAMES) | set(reserved)
        self.definitions: dict[str, Definition] = {}
        self.shared: dict[str, str] = {}
        # Definitions that are just ``None``: used inline, never as an alias, because
        # annotations are evaluated at import and ``Alias | None`` would be ``None | None``.
        self.none_names: set[str] = set()

    def claim(self, preferred: str) -> str:
        """A fresh name based on ``preferred`` (already CamelCase)."""
        base = preferred[:MAX_NAME_LENGTH] or "Type"
        name, counter = base, 2
        while name in self._taken:
            name = f"{base}{counter}"
            counter += 1
        self._taken.add(name)
        return name

    def is_taken(self, name: str) -> bool:
        return name in self._taken

    def define(self, definition: Definition) -> None:
        self.definitions[definition.name] = definition

    def typed_dict(self, name: str) -> TypedDictDef | None:
        found = self.definitions.get(name)
        return found if isinstance(found, TypedDictDef) else None

    def finish(self) -> None:
        """Break alias cycles mypy would reject (``A = B | None``, ``B = A``) by making them ``Any``."""
        aliases = {name: d for name, d in self.definitions.items() if isinstance(d, AliasDef)}
        state: dict[str, int] = {}
        broken: set[str] = set()

        def visit(name: str, stack: list[str]) -> None:
            state[name] = 1
            stack.append(name)
            for ref in aliases[name].type.bare_refs:
                if ref not in aliases:
                    continue
                if state.get(ref) == 1:
                    broken.update(stack[stack.index(ref) :])
                elif ref not in state:
                    visit(ref, stack)
            stack.pop()
            state[name] = 2

        for name in aliases:
            if name not in state:
                visit(name, [])
        for name in broken:
            aliases[name].type = any_type("a type alias that only refers to itself")


def schema_description(schema: Any) -> str:
    if isinstance(schema, dict):
        text = schema.get("description")
        if isinstance(text, str):
            return text
    return ""


def resolve_pointer(root: Any, ref: Any) -> Any:
    """The node ``ref`` (a local JSON pointer like ``#/$defs/Item``) points at in ``root``, or ``_MISSING``."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        return _MISSING
    fragment = urllib.parse.unquote(ref[1:])
    if fragment == "":
        return root
    if not fragment.startswith("/"):
        return _MISSING
    node = root
    for token in fragment[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _MISSING
    return node


def is_pure_ref(schema: Any) -> bool:
    return isinstance(schema, dict) and "$ref" in schema and set(schema) <= _ANNOTATION_KEYS


def has_type_info(schema: Any) -> bool:
    return isinstance(schema, dict) and any(key in schema for key in _TYPE_INFO_KEYS)


def follow_ref(root: Any, ref: Any, limit: int = 32) -> Any:
    """The schema at the end of a ``$ref`` chain, or ``_MISSING`` for a broken or circular one."""
    seen: set[str] = set()
    target: Any = {"$ref": ref}
    while is_pure_ref(target):
        ref = target["$ref"]
        if not isinstance(ref, str) or ref in seen or len(seen) >= limit:
            return _MISSING
        seen.add(ref)
        target = resolve_pointer(root, ref)
        if target is _MISSING:
            return _MISSING
    return target


def merge_all_of(
    schema: Mapping[str, Any], root: Any, _seen: frozenset[str] = frozenset(), _depth: int = 0
) -> dict[str, Any] | None:
    """``allOf`` parts (and the schema around them) merged into one schema, or ``None``.

    Properties and ``required`` lists are united; ``$ref`` parts are followed
    (a reference cycle gives ``None``); conflicting ``type``s give ``None``.
    """
    if _depth > 16 or not isinstance(schema.get("allOf"), list):
        return None
    base = {key: value for key, value in schema.items() if key != "allOf"}
    parts: list[Any] = [base, *(schema.get("allOf") or [])]
    merged: dict[str, Any] = {}
    for part in parts:
        if part is True or part == {}:
            continue
        if not isinstance(part, dict):
            return None
        if "$ref" in part:
            ref = part["$ref"]
            if not isinstance(ref, str) or ref in _seen:
                return None
            target = follow_ref(root, ref)
            if not isinstance(target, dict):
                return None
            siblings = {key: value for key, value in part.items() if key != "$ref"}
            part = {**target, **siblings}
            if "allOf" in part:
                nested = merge_all_of(part, root, _seen | {ref}, _depth + 1)
                if nested is None:
                    return None
                part = nested
        elif isinstance(part.get("allOf"), list) and part is not base:
            nested = merge_all_of(part, root, _seen, _depth + 1)
            if nested is None:
                return None
            part = nested
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                props = dict(merged.get("properties") or {})
                props.update(value)
                merged["properties"] = props
            elif key == "required" and isinstance(value, list):
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            elif key == "type" and "type" in merged and merged["type"] != value:
                return None
            elif key == "allOf":
                continue
            else:
                merged.setdefault(key, value)
    return merged


def _canonical(value: Any) -> str | None:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None


def _contains_ref(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "$ref" in node:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def literal_member(value: Any) -> str | None:
    """Source for one ``Literal`` argument, or ``None`` if ``value`` cannot be one."""
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        try:
            return repr(int(value))
        except ValueError:
            return None
    if isinstance(value, str):
        return string_literal(value)
    return None


class SchemaConverter:
    """Converts the schemas of one module's tools into types in one :class:`TypeNamespace`."""

    def __init__(self, namespace: TypeNamespace) -> None:
        self.ns = namespace
        self._ref_names: dict[tuple[int, str], str] = {}
        self._used_root_names: set[str] = set()
        self._root_text: dict[tuple[int, bool], str | None] = {}

    # -- entry points ------------------------------------------------------------------

    def convert_root(
        self, schema: Any, name: str, *, root: Any = None, empty_object_ok: bool = False, document_keys: bool = True
    ) -> TypeExpr:
        """The type of a whole tool schema; an object becomes the ``TypedDict`` ``name``.

        ``root`` is what ``$ref`` pointers resolve against (``schema`` itself by
        default).  With ``empty_object_ok`` an object with no properties is an
        empty ``TypedDict`` (a tool with no parameters) rather than ``dict``.
        ``document_keys=False`` leaves key descriptions out of the class
        docstring (a binding's docstring already lists its parameters).
        """
        root = schema if root is None else root
        name = self.ns.claim(name)
        if schema is root:
            self._ref_names[(id(root), "#")] = name
        plain = self.plain_object(schema, root, empty_object_ok=empty_object_ok)
        if plain is not None:
            self._typed_dict(plain, root, name, 0)
            definition = self.ns.typed_dict(name)
            if definition is not None:
                definition.document_keys = document_keys
            return named(name)
        self.ns.define(AliasDef(name))  # keeps the name's place in the module order
        expr = self.convert(schema, root, name, 0)
        if name in self._used_root_names:
            self.ns.define(AliasDef(name, expr))
            return named(name)
        del self.ns.definitions[name]
        return expr

    def plain_object(self, schema: Any, root: Any, *, empty_object_ok: bool = False) -> Mapping[str, Any] | None:
        """``schema`` (``allOf`` merged) if it is exactly one object with properties, else ``None``."""
        if not isinstance(schema, dict):
            return None
        if isinstance(schema.get("allOf"), list):
            merged = merge_all_of(schema, root)
            if merged is None:
                return None
            schema = merged
        if any(key in schema for key in ("$ref", "anyOf", "oneOf", "enum", "const")) or schema.get("nullable") is True:
            return None
        if schema.get("type", "object") != "object":
            return None
        props = schema.get("properties")
        if not isinstance(props, dict):
            return schema if schema.get("additionalProperties") is False and "patternProperties" not in schema else None
        if props or empty_object_ok or schema.get("additionalProperties") is False:
            return schema
        return None

    # -- the recursive conversion ---------------------------------------------------------

    def convert(self, schema: Any, root: Any, hint: str, depth: int) -> TypeExpr:
        """The type of ``schema``; inline objects are named after ``hint``."""
        if depth > MAX_DEPTH:
            return any_type("the schema is nested too deeply")
        if schema is True:
            return ANY
        if schema is False:
            return any_type("the schema 'false' accepts no value")
        if not isinstance(schema, dict):
            return any_type("not a JSON Schema object")
        if not schema:
            return ANY
        expr = self._convert(schema, root, hint, depth)
        if schema.get("nullable") is True:
            expr = union([expr, NONE])
        return expr

    def _convert(self, schema: Mapping[str, Any], root: Any, hint: str, depth: int) -> TypeExpr:
        if "$ref" in schema:
            return self._ref(schema["$ref"], root, depth)
        if isinstance(schema.get("allOf"), list):
            merged = merge_all_of(schema, root)
            if merged is None:
                return any_type("allOf parts that could not be merged")
            return self.convert(merged, root, hint, depth + 1)
        for key in ("anyOf", "oneOf"):
            variants = schema.get(key)
            if isinstance(variants, list) and variants:
                return self._variants(schema, variants, root, hint, depth)
        if "const" in schema:
            return self._literals([schema["const"]], schema, root, hint, depth)
        if "enum" in schema:
            values = schema["enum"]
            if isinstance(values, list) and values:
                return self._literals(values, schema, root, hint, depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [item for item in dict.fromkeys(k for k in kind if isinstance(k, str))]
            if not kinds:
                return ANY
            if len(kinds) > 1:
                return union(self.convert({**schema, "type": item}, root, hint, depth + 1) for item in kinds)
            kind = kinds[0]
            schema = {**schema, "type": kind}
        if kind is None:
            if any(key in schema for key in ("properties", "additionalProperties", "patternProperties")):
                kind = "object"
            elif any(key in schema for key in ("items", "prefixItems")):
                kind = "array"
            else:
                return ANY
        return self._typed(kind, schema, root, hint, depth)

    def _typed(self, kind: Any, schema: Mapping[str, Any], root: Any, hint: str, depth: int) -> TypeExpr:
        if kind == "string":
            return simple("str")
        if kind == "integer":
            return simple("int")
        if kind == "number":
            return simple("float")
        if kind == "boolean":
            return simple("bool")
        if kind == "null":
            return NONE
        if kind == "array":
            return self._array(schema, root, hint, depth)
        if kind == "object":
            return self._object(schema, root, hint, depth)
        return any_type("an unknown JSON Schema type")

    def _array(self, schema: Mapping[str, Any], root: Any, hint: str, depth: int) -> TypeExpr:
        items = schema.get("items")
        prefix = schema.get("prefixItems")
        tuple_items = prefix if isinstance(prefix, list) else items if isinstance(items, list) else None
        if tuple_items:
            parts = [self.convert(item, root, f"{hint}Item{i + 1}", depth + 1) for i, item in enumerate(tuple_items)]
            rest = items if isinstance(prefix, list) else schema.get("additionalItems")
            if isinstance(rest, dict) or rest is True:
                parts.append(self.convert(rest, root, f"{hint}Item", depth + 1))
            return generic("list[{}]", union(parts))
        if isinstance(items, dict) or items is True:
            return generic("list[{}]", self.convert(items, root, f"{hint}Item", depth + 1))
        return simple("list[Any]")

    def _object(self, schema: Mapping[str, Any], root: Any, hint: str, depth: int) -> TypeExpr:
        plain = self.plain_object(schema, root)
        if plain is not None:
            name = self.ns.claim(hint)
            self._typed_dict(plain, root, name, depth)
            return named(name)
        extra = schema.get("additionalProperties")
        patterns = schema.get("patternProperties")
        values: list[TypeExpr] = []
        if isinstance(patterns, dict):
            values.extend(self.convert(sub, root, f"{hint}Value", depth + 1) for sub in patterns.values())
        if isinstance(extra, dict):
            values.append(self.convert(extra, root, f"{hint}Value", depth + 1))
        elif values and extra is not False:
            values.append(ANY)
        if not values:
            return simple("dict[str, Any]")
        return generic("dict[str, {}]", union(values))

    def _typed_dict(self, schema: Mapping[str, Any], root: Any, name: str, depth: int) -> None:
        definition = TypedDictDef(name, description=schema_description(schema))
        self.ns.define(definition)
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        required_list = schema.get("required")
        required = {key for key in required_list if isinstance(key, str)} if isinstance(required_list, list) else set()
        for key, sub in props.items():
            if not isinstance(key, str):
                continue
            expr = self.convert(sub, root, f"{name}{camel_name(key, fallback='field')}", depth + 1)
            description = schema_description(sub)
            if not description and isinstance(sub, dict) and "$ref" in sub:
                description = schema_description(follow_ref(root, sub["$ref"]))
            default = sub.get("default", _MISSING) if isinstance(sub, dict) else _MISSING
            definition.fields.append(FieldDef(key, expr, key in required, description, default))
        for key in sorted(required - set(props)):
            definition.fields.append(FieldDef(key, any_type("required but not described by the schema"), True))

    def _variants(self, schema: Mapping[str, Any], variants: list[Any], root: Any, hint: str, depth: int) -> TypeExpr:
        base = {key: value for key, value in schema.items() if key not in ("anyOf", "oneOf")}
        if has_type_info(base):
            if not any(has_type_info(variant) for variant in variants):
                return self.convert(base, root, hint, depth + 1)  # the variants only add constraints
            merged: list[Any] = []
            for variant in variants:
                if not isinstance(variant, dict):
                    merged.append(variant)
                    continue
                combined = {**base, **variant}
                if isinstance(base.get("properties"), dict) and isinstance(variant.get("properties"), dict):
                    combined["properties"] = {**base["properties"], **variant["properties"]}
                if isinstance(base.get("required"), list) and isinstance(variant.get("required"), list):
                    combined["required"] = [*base["required"], *variant["required"]]
                merged.append(combined)
            variants = merged
        many = sum(1 for v in variants if not (isinstance(v, dict) and v.get("type") == "null")) > 1
        return union(
            self.convert(variant, root, f"{hint}Option{i + 1}" if many else hint, depth + 1)
            for i, variant in enumerate(variants)
        )

    def _literals(self, values: list[Any], schema: Mapping[str, Any], root: Any, hint: str, depth: int) -> TypeExpr:
        rest = {key: value for key, value in schema.items() if key not in ("enum", "const")}
        if len(values) > MAX_LITERALS:
            fallback = self.convert(rest, root, hint, depth + 1) if has_type_info(rest) else ANY
            return fallback.with_note("too many enum values to list as a Literal")
        seen: dict[tuple[str, Any], str] = {}
        has_none = False
        others: list[Any] = []
        for value in values:
            if value is None:
                has_none = True
                continue
            member = literal_member(value) if is_literal_value(value) else None
            if member is None:
                others.append(value)
            else:
                seen.setdefault((type(value).__name__, value), member)
        parts: list[TypeExpr] = []
        if seen:
            parts.append(simple("Literal[" + ", ".join(seen.values()) + "]"))
        if others:
            parts.append(union(self._json_value_type(value) for value in others))
        if has_none:
            parts.append(NONE)
        return union(parts)

    @staticmethod
    def _json_value_type(value: Any) -> TypeExpr:
        if isinstance(value, float):
            return simple("float")
        if isinstance(value, int):
            return simple("int")
        if isinstance(value, list):
            return simple("list[Any]")
        if isinstance(value, dict):
            return simple("dict[str, Any]")
        return ANY

    def _context_text(self, target: Any, root: Any) -> str | None:
        """What the references inside ``target`` can mean: the document's definitions, or all of it.

        Two tools whose ``$defs`` are the same share one generated type; a
        reference to anything outside ``$defs``/``definitions`` ties the type to
        its whole document.
        """
        only_defs = True
        seen: set[str] = set()
        stack = [target]
        while stack and only_defs:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref not in seen:
                    seen.add(ref)
                    if not ref.startswith(("#/$defs/", "#/definitions/")):
                        only_defs = False
                        break
                    resolved = resolve_pointer(root, ref)
                    if resolved is not _MISSING:
                        stack.append(resolved)
                stack.extend(value for key, value in node.items() if key != "$ref")
            elif isinstance(node, list):
                stack.extend(node)
        key = (id(root), only_defs)
        if key not in self._root_text:
            if not isinstance(root, dict):
                text = None
            elif only_defs:
                text = _canonical({"$defs": root.get("$defs"), "definitions": root.get("definitions")})
            else:
                text = _canonical(root)
            self._root_text[key] = text
        return self._root_text[key]

    def _ref(self, ref: Any, root: Any, depth: int) -> TypeExpr:
        if not isinstance(ref, str):
            return any_type("a $ref that is not a string")
        key = (id(root), urllib.parse.unquote(ref))
        known = self._ref_names.get(key)
        if known is not None:
            if known in self.ns.none_names:
                return NONE
            self._used_root_names.add(known)
            return named(known)
        target = follow_ref(root, ref)
        if target is _MISSING:
            return any_type("a $ref that could not be resolved (only local references are)")
        if target is True or target == {}:
            return ANY
        if not isinstance(target, dict):
            return any_type("a $ref to something that is not a schema")
        token = key[1].rstrip("/").rsplit("/", 1)[-1] if key[1] not in ("#", "") else "Root"
        preferred = camel_name(token, fallback="type")
        content = _canonical(target)
        if content is not None and _contains_ref(target):
            context = self._context_text(target, root)
            content = content + "\x00" + context if context is not None else None
        shared_key = f"{preferred}\x00{content}" if content is not None else None
        if shared_key is not None and shared_key in self.ns.shared:
            name = self.ns.shared[shared_key]
            self._ref_names[key] = name
            return NONE if name in self.ns.none_names else named(name)
        name = self.ns.claim(preferred)
        self._ref_names[key] = name
        if shared_key is not None:
            self.ns.shared[shared_key] = name
        plain = self.plain_object(target, root)
        if plain is not None:
            self._typed_dict(plain, root, name, depth + 1)
        else:
            alias = AliasDef(name)
            self.ns.define(alias)
            alias.type = self.convert(target, root, f"{name}Value", depth + 1)
            if alias.type.members == ("None",) and not alias.type.refs:
                del self.ns.definitions[name]
                self.ns.none_names.add(name)
                return NONE.with_note(alias.type.notes[0]) if alias.type.notes else NONE
        return named(name)

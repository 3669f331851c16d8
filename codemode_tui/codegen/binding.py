"""What one tool's binding is made of: its parameters, types, docstring and example.

A :class:`ToolBinding` is the data the renderer turns into source.  Building
it decides every name in the binding: the keyword names of the parameters
(schema keys that are plain ASCII identifiers keep their name; others, and
keys that would shadow what the function body or its annotations use, get a
sanitized name mapped back to the original key) and the types of the input
and output.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..names import sanitize_identifier
from ..results import wrapped_result_schema
from ..tool_types import ToolDefinition
from .literals import py_literal, shorten
from .schema_types import (
    ANY,
    BUILTIN_TYPE_NAMES,
    TYPING_NAMES,
    FieldDef,
    SchemaConverter,
    TypeExpr,
    TypeNamespace,
    any_type,
    camel_name,
    follow_ref,
    merge_all_of,
    simple,
)

HELPER_PREFIX = "_cm_"
# A keyword parameter may not take these names: the body or the annotations need them.
_AVOID_KWARGS = frozenset({"arguments", "__debug__", *TYPING_NAMES, *BUILTIN_TYPE_NAMES})
DESCRIPTION_LIMIT = 4000
PARAM_DESCRIPTION_LIMIT = 1000
_ANNOTATION_WORDS = (
    ("readOnlyHint", "read-only", None),
    ("destructiveHint", "destructive", "non-destructive"),
    ("idempotentHint", "idempotent", None),
    ("openWorldHint", "open-world (reaches outside systems)", "closed-world"),
)


@dataclass(frozen=True)
class Param:
    """One keyword parameter of a binding, for one key of the input schema."""

    key: str
    kwarg: str
    type: TypeExpr
    required: bool
    description: str
    default: Any
    has_default: bool


@dataclass(frozen=True)
class ToolBinding:
    """Everything needed to render one tool's ``async def``."""

    tool: ToolDefinition
    function: str
    arguments_type: TypeExpr
    params: tuple[Param, ...]
    closed: bool
    output_type: TypeExpr
    output_unwrapped: bool

    @property
    def required_keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.params if p.required)

    @property
    def renamed(self) -> dict[str, str]:
        return {p.key: p.kwarg for p in self.params if p.key != p.kwarg}


def is_plain_kwarg(key: str) -> bool:
    """Whether a schema key can be a keyword parameter under its own name."""
    return (
        key.isascii()
        and key.isidentifier()
        and not keyword.iskeyword(key)
        and key not in _AVOID_KWARGS
        and not key.startswith(HELPER_PREFIX)
    )


def keyword_names(keys: Iterable[str]) -> dict[str, str]:
    """Map schema keys to distinct keyword names; plain identifiers keep theirs.

    Stable: keys that keep their name win; the others are sanitized in sorted
    order and numbered on collision, whatever order the schema lists them in.
    """
    keys = list(dict.fromkeys(keys))
    result = {key: key for key in keys if is_plain_kwarg(key)}
    taken = set(result.values())
    for key in sorted(k for k in keys if k not in result):
        base = sanitize_identifier(key, fallback="arg")
        if not is_plain_kwarg(base):
            base = f"{base}_"
        name, counter = base, 2
        while name in taken or not is_plain_kwarg(name):
            name = f"{base}_{counter}"
            counter += 1
        taken.add(name)
        result[key] = name
    return result


def input_keys(tool: ToolDefinition) -> list[str]:
    """The top-level keys of a tool's input schema (its parameters), in schema order."""
    schema = tool.input_schema if isinstance(tool.input_schema, Mapping) else {}
    objects: list[Mapping[str, Any]] = []
    effective: Any = schema
    if "$ref" in schema:
        effective = follow_ref(schema, schema["$ref"])
    if isinstance(effective, Mapping) and isinstance(effective.get("allOf"), list):
        effective = merge_all_of(effective, schema) or {}
    if isinstance(effective, Mapping):
        objects.append(effective)
        for key in ("anyOf", "oneOf"):
            variants = effective.get(key)
            if isinstance(variants, list):
                objects.extend(v for v in variants if isinstance(v, Mapping))
    keys: dict[str, None] = {}
    for obj in objects:
        props = obj.get("properties")
        if isinstance(props, Mapping):
            keys.update((k, None) for k in props if isinstance(k, str))
        required = obj.get("required")
        if isinstance(required, list):
            keys.update((k, None) for k in required if isinstance(k, str))
    return list(keys)


def reserved_names(tools: Iterable[ToolDefinition]) -> set[str]:
    """Names a module's types must not take: its functions' keyword names."""
    names: set[str] = set()
    for tool in tools:
        names.update(keyword_names(input_keys(tool)).values())
    return names


def _is_closed(schema: Mapping[str, Any]) -> bool:
    effective: Any = schema
    if "$ref" in schema:
        effective = follow_ref(schema, schema["$ref"])
    if isinstance(effective, Mapping) and isinstance(effective.get("allOf"), list):
        effective = merge_all_of(effective, schema)
    if not isinstance(effective, Mapping) or not isinstance(effective.get("properties"), Mapping):
        return False
    extra = effective.get("additionalProperties")
    return (extra is None or extra is False) and "patternProperties" not in effective


def build_binding(tool: ToolDefinition, converter: SchemaConverter) -> ToolBinding:
    """The binding of ``tool``, its types defined in the converter's namespace."""
    try:
        return _build(tool, converter)
    except RecursionError:
        return _fallback(tool, "the schema is nested too deeply to analyse")


def _fallback(tool: ToolDefinition, note: str) -> ToolBinding:
    return ToolBinding(
        tool=tool,
        function=tool.python_name,
        arguments_type=simple("dict[str, Any]").with_note(note),
        params=(),
        closed=False,
        output_type=any_type(note),
        output_unwrapped=False,
    )


def _build(tool: ToolDefinition, converter: SchemaConverter) -> ToolBinding:
    ns = converter.ns
    base = camel_name(tool.python_name, fallback="tool")
    schema = tool.input_schema if isinstance(tool.input_schema, Mapping) else {}
    input_type = converter.convert_root(schema, f"{base}Input", empty_object_ok=True, document_keys=False)

    typed_members = [ns.typed_dict(member) for member in input_type.members]
    fields: dict[str, FieldDef] = {}
    if input_type.members and all(member is not None for member in typed_members):
        single = len(typed_members) == 1
        for definition in typed_members:
            assert definition is not None
            for fdef in definition.fields:
                if fdef.key not in fields:
                    fields[fdef.key] = (
                        fdef if single else FieldDef(fdef.key, fdef.type, False, fdef.description, fdef.default)
                    )
        arguments_type = input_type
        closed = single and _is_closed(schema)
    elif all(member.startswith("dict[") or member == "Any" for member in input_type.members):
        arguments_type = simple("dict[str, Any]") if input_type.is_any else input_type
        closed = False
    else:
        arguments_type = simple("dict[str, Any]").with_note("the input schema is not an object")
        closed = False

    names = keyword_names(fields)
    params = tuple(
        Param(
            key=key,
            kwarg=names[key],
            type=fdef.type,
            required=fdef.required,
            description=fdef.description,
            default=fdef.default,
            has_default=fdef.has_default,
        )
        for key, fdef in fields.items()
    )

    output_type: TypeExpr = ANY
    unwrapped = False
    out_schema = tool.output_schema
    if isinstance(out_schema, Mapping) and out_schema:
        inner = wrapped_result_schema(out_schema, tool.name)
        if inner is not None:
            unwrapped = True
            output_type = converter.convert_root(inner, f"{base}Output", root=out_schema)
        else:
            output_type = converter.convert_root(out_schema, f"{base}Output")
    return ToolBinding(
        tool=tool,
        function=tool.python_name,
        arguments_type=arguments_type,
        params=params,
        closed=closed,
        output_type=output_type,
        output_unwrapped=unwrapped,
    )


def build_bindings(tools: Iterable[ToolDefinition]) -> tuple[list[ToolBinding], TypeNamespace]:
    """The bindings of one module's tools, sharing one type namespace."""
    tools = list(tools)
    ns = TypeNamespace(reserved_names(tools))
    converter = SchemaConverter(ns)
    bindings = [build_binding(tool, converter) for tool in tools]
    ns.finish()
    return bindings, ns


# -- example values --------------------------------------------------------------------


def sample_value(schema: Any, root: Any, depth: int = 0) -> Any:
    """A plausible placeholder value for ``schema``: what an example call passes."""
    if depth > 4 or not isinstance(schema, Mapping):
        return "..."
    if "$ref" in schema:
        target = follow_ref(root, schema["$ref"])
        return sample_value(target, root, depth + 1) if isinstance(target, Mapping) else "..."
    if isinstance(schema.get("allOf"), list):
        merged = merge_all_of(schema, root)
        return sample_value(merged, root, depth + 1) if merged else "..."
    examples = schema.get("examples")
    if isinstance(examples, list) and examples and py_literal(examples[0]) is not None:
        return examples[0]
    if "const" in schema and py_literal(schema["const"]) is not None:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and py_literal(enum[0]) is not None:
        return enum[0]
    for key in ("anyOf", "oneOf"):
        variants = schema.get(key)
        if isinstance(variants, list):
            for variant in variants:
                if isinstance(variant, Mapping) and variant.get("type") != "null":
                    return sample_value(variant, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and "properties" in schema:
        kind = "object"
    return _sample_of_kind(kind, schema, root, depth)


def _sample_of_kind(kind: Any, schema: Mapping[str, Any], root: Any, depth: int) -> Any:
    if kind == "string":
        return _sample_string(schema)
    if kind == "integer":
        return int(_sample_number(schema, integer=True))
    if kind == "number":
        return float(_sample_number(schema, integer=False))
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    if kind == "array":
        items = schema.get("items")
        min_items = schema.get("minItems")
        if isinstance(items, Mapping) and isinstance(min_items, int) and min_items >= 1:
            return [sample_value(items, root, depth + 1)] * min(min_items, 10)
        return []
    if kind == "object":
        props = schema.get("properties")
        required = schema.get("required")
        if isinstance(props, Mapping) and isinstance(required, list):
            return {k: sample_value(props[k], root, depth + 1) for k in required if isinstance(k, str) and k in props}
        return {}
    return "..."


def _bound(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _sample_number(schema: Mapping[str, Any], *, integer: bool) -> float:
    """0 when the schema allows it, else the number nearest to 0 that its bounds allow.

    The example call is run as inserted more often than not, so a placeholder
    the server's own validation refuses (``quantity: 0`` for ``minimum: 1``)
    would make the first run fail for no reason of the user's.
    """
    step = 1.0 if integer else 0.5
    low, high = _bound(schema.get("minimum")), _bound(schema.get("maximum"))
    exclusive_low, exclusive_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if exclusive_low is True and low is not None:  # draft 4: a flag on minimum
        low += step
    elif (bound := _bound(exclusive_low)) is not None:
        low = max(low, bound + step) if low is not None else bound + step
    if exclusive_high is True and high is not None:
        high -= step
    elif (bound := _bound(exclusive_high)) is not None:
        high = min(high, bound - step) if high is not None else bound - step
    value = 0.0
    if low is not None and value < low:
        value = float(math.ceil(low)) if integer else low
    if high is not None and value > high:
        value = float(math.floor(high)) if integer else high
    multiple = _bound(schema.get("multipleOf"))
    if multiple and multiple > 0 and value % multiple:
        value = math.ceil(value / multiple) * multiple
    return value


def _sample_string(schema: Mapping[str, Any]) -> str:
    """``...`` (a placeholder to fill in), as long as the schema's length bounds want."""
    text = "..."
    min_length, max_length = schema.get("minLength"), schema.get("maxLength")
    if isinstance(min_length, int) and min_length > len(text):
        text = "." * min(min_length, 64)
    if isinstance(max_length, int) and 0 <= max_length < len(text):
        text = text[:max_length]
    return text


def example_arguments(binding: ToolBinding) -> dict[str, Any]:
    """Placeholder values for the required parameters of a tool, by schema key."""
    schema = binding.tool.input_schema if isinstance(binding.tool.input_schema, Mapping) else {}
    effective: Any = schema
    if "$ref" in schema:
        effective = follow_ref(schema, schema["$ref"])
    if isinstance(effective, Mapping) and isinstance(effective.get("allOf"), list):
        effective = merge_all_of(effective, schema)
    props = effective.get("properties") if isinstance(effective, Mapping) else None
    props = props if isinstance(props, Mapping) else {}
    values: dict[str, Any] = {}
    for param in binding.params:
        if param.required:
            try:
                values[param.key] = sample_value(props.get(param.key), schema)
            except RecursionError:
                values[param.key] = "..."
    return values


def example_call_source(binding: ToolBinding) -> str:
    """``await fn(...)`` with placeholders for the required parameters (keywords when possible)."""
    values = example_arguments(binding)
    kwarg_of = {p.key: p.kwarg for p in binding.params}

    def render(value: Any) -> str:
        return py_literal(value) or "..."

    if all(kwarg_of[key] == key for key in values):
        args = ", ".join(f"{key}={render(value)}" for key, value in values.items())
    else:
        args = render(values)
    return f"await {binding.function}({args})"


# -- docstrings ------------------------------------------------------------------------


def annotation_words(annotations: Mapping[str, Any]) -> list[str]:
    """The tool's MCP annotations in words, e.g. ``["read-only", "idempotent"]``."""
    words: list[str] = []
    for key, yes, no in _ANNOTATION_WORDS:
        value = annotations.get(key)
        if value is True:
            words.append(yes)
        elif value is False and no is not None:
            if key == "destructiveHint" and annotations.get("readOnlyHint") is True:
                continue
            words.append(no)
    return words


def _indent_block(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def docstring_text(binding: ToolBinding) -> str:
    """The docstring of a binding (plain text; the renderer escapes it)."""
    tool = binding.tool
    summary = tool.description.strip() or (tool.title or "").strip() or f"Call the MCP tool {tool.name!r}."
    lines = [shorten(summary, DESCRIPTION_LIMIT), ""]
    lines.append(f"MCP tool {tool.name!r} of server {tool.server!r}.")
    words = annotation_words(tool.annotations or {})
    if words:
        lines.append("Annotations: " + ", ".join(words) + ".")
    lines += ["", "Args:"]
    lines.append(
        "    arguments: every argument as one dict, keys exactly as in the schema; merged with the keywords below."
    )
    for param in binding.params:
        facts = [shorten(param.type.text, 300)]
        if param.required:
            facts.append("required")
        elif param.has_default:
            facts.append("default " + shorten(py_literal(param.default) or repr(param.default), 200))
        else:
            facts.append("optional")
        if param.kwarg != param.key:
            facts.append(f"schema key {param.key!r}")
        head = f"    {param.kwarg} ({', '.join(facts)})"
        description = shorten(param.description.strip(), PARAM_DESCRIPTION_LIMIT)
        if description:
            first, *rest = description.splitlines() or [""]
            lines.append(f"{head}: {first}")
            if rest:
                lines.append(_indent_block("\n".join(rest), "        "))
        else:
            lines.append(head + ".")
    lines += ["", "Returns:", "    " + shorten(binding.output_type.text, 500)]
    if binding.output_unwrapped:
        lines.append("    (the server's {'result': ...} wrapper is removed)")
    lines += [
        "",
        "Raises:",
        "    ToolError: the tool reported an error, or could not be reached.",
        "    TypeError: a required argument is missing or an unknown one was given.",
        "",
        "Example:",
        "    " + example_call_source(binding),
    ]
    return "\n".join(lines)

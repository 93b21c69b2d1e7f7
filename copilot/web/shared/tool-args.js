/* Support Copilot consoles: arguments templates built from a tool's JSON Schema (GET /v1/tools), shared by the
   agent console's Run-a-tool panel and the admin console's simulator. */

const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj || {}, key);

/** A value for one property: a hint (by argument name) wins, then the schema's default, first enum value or
    first example, else a typed placeholder ("<order_id>", 0, false, [placeholder], nested object). */
function valueFor(name, schema, hints) {
  const spec = schema || {};
  if (has(hints, name) && hints[name] !== null && hints[name] !== undefined && hints[name] !== "") return hints[name];
  if (spec.default !== undefined) return spec.default;
  if (Array.isArray(spec.enum) && spec.enum.length) return spec.enum[0];
  if (Array.isArray(spec.examples) && spec.examples.length) return spec.examples[0];
  const type = Array.isArray(spec.type) ? spec.type.find((t) => t !== "null") : spec.type;
  if (type === "object") return template(spec, {});
  if (type === "array") return spec.minItems === 0 || !spec.items ? [] : [valueFor(name.replace(/s$/, ""), spec.items, {})];
  if (type === "integer" || type === "number") return typeof spec.minimum === "number" ? spec.minimum : 0;
  if (type === "boolean") return false;
  return `<${name}>`;
}

/** An arguments object with every required property of `schema` (an object JSON Schema). */
export function template(schema, hints) {
  const properties = (schema && schema.properties) || {};
  const required = Array.isArray(schema && schema.required) ? schema.required : [];
  const out = {};
  for (const name of required) out[name] = valueFor(name, properties[name], hints || {});
  return out;
}

/** The template as pretty JSON, ready for a textarea. */
export function templateText(schema, hints) {
  return JSON.stringify(template(schema, hints), null, 2);
}

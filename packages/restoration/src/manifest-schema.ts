/**
 * A small field validator for the JSON files this package reads (model manifests, checkpoints): a
 * malformed file fails with the file and the dotted field named, and what was expected, before any
 * field is used (never "Cannot read properties of undefined").
 */

/** What a field must hold. */
export type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'string[]' | 'number[]';
/** A nested object spec, a field type, or either marked optional. */
export type FieldSpec = FieldType | ObjectSpec | { optional: FieldType | ObjectSpec };
export interface ObjectSpec {
  [field: string]: FieldSpec;
}

/** A JSON file with a missing or mistyped field; `field` is the dotted path (e.g. 'weights.sha256'). */
export class ManifestFieldError extends Error {
  constructor(readonly file: string, readonly field: string, readonly expected: string, actual: unknown) {
    super(`${file}: field '${field}' must be ${expected}, ${describe(actual)}`);
    this.name = 'ManifestFieldError';
  }
}

const EXPECTED: Record<FieldType, string> = {
  string: 'a string',
  number: 'a finite number',
  integer: 'a non-negative integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  'string[]': 'an array of strings',
  'number[]': 'an array of finite numbers',
};

function describe(value: unknown): string {
  if (value === undefined) return 'but it is missing';
  const text = JSON.stringify(value);
  return `got ${text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matches(type: FieldType, value: unknown): boolean {
  switch (type) {
    case 'string': return typeof value === 'string';
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'integer': return typeof value === 'number' && Number.isInteger(value) && value >= 0;
    case 'boolean': return typeof value === 'boolean';
    case 'object': return isObject(value);
    case 'array': return Array.isArray(value);
    case 'string[]': return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'number[]': return Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v));
  }
}

/** Throws ManifestFieldError for the first field of `value` that does not match `spec`. */
export function validateFields(value: unknown, spec: ObjectSpec, file: string, prefix = ''): void {
  if (!isObject(value)) throw new ManifestFieldError(file, prefix || '(root)', 'an object', value);
  for (const [name, fieldSpec] of Object.entries(spec)) {
    const field = prefix ? `${prefix}.${name}` : name;
    const optional = isObject(fieldSpec) && 'optional' in fieldSpec && Object.keys(fieldSpec).length === 1;
    const inner = (optional ? (fieldSpec as { optional: FieldType | ObjectSpec }).optional : fieldSpec) as FieldType | ObjectSpec;
    const v = value[name];
    if (v === undefined && optional) continue;
    if (typeof inner === 'string') {
      if (!matches(inner, v)) throw new ManifestFieldError(file, field, EXPECTED[inner], v);
    } else {
      validateFields(v, inner, file, field);
    }
  }
}

/** Checks every element of an array field against an object spec, naming the element ('weights.tensors[3].shape'). */
export function validateEach(values: unknown[], spec: ObjectSpec, file: string, field: string): void {
  values.forEach((v, i) => validateFields(v, spec, file, `${field}[${i}]`));
}

/** Where a packed tensor lives in a binary file (PackedTensorEntry). */
export const TENSOR_ENTRY_SPEC: ObjectSpec = { name: 'string', shape: 'number[]', dtype: 'string', offset: 'integer', bytes: 'integer' };
/** A binary file named by a manifest, with its size and checksum (ModelFileRef). */
export const FILE_REF_SPEC: ObjectSpec = { path: 'string', bytes: 'integer', sha256: 'string' };

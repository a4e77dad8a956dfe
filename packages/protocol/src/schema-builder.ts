/**
 * A typed JSON Schema builder, so the catalog is written once: each function returns a plain JSON Schema
 * object (the subset `validate.ts` interprets) whose TypeScript type also carries the type of the values it
 * accepts, read with `Static<typeof schema>`. The JSON Schema document, the runtime guards and the exported
 * types all come from the same objects. In the spirit of TypeBox, without the dependency; nothing here
 * generates code (the protocol runs in browsers).
 *
 *   const location = t.object({
 *     file: t.string(),
 *     /** 1-based *\/
 *     line: t.optional(t.integer({ minimum: 0 })),
 *   });                      // { type: 'object', properties: {…}, required: ['file'] }
 *   type Location = Static<typeof location>;   // { file: string; line?: number } (JSDoc kept)
 *
 * Objects allow additional properties (the protocol only adds fields).
 */

export type SchemaType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

/** The subset of JSON Schema (2020-12) the catalog uses and `validateSchema` checks. */
export interface Schema {
  type?: SchemaType | SchemaType[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  /** Schema every property not listed in `properties` must conform to. */
  additionalProperties?: Schema;
  enum?: readonly (string | number | boolean | null)[];
  minimum?: number;
  description?: string;
  $ref?: string;
}

// Type-level only: these keys never exist on the objects (nothing is declared at run time).
declare const STATIC: unique symbol;
declare const OPTIONAL: unique symbol;

/** A JSON Schema whose values have the TypeScript type `T`. */
export interface TSchema<T = unknown> extends Schema {
  readonly [STATIC]: T;
}

/** A property schema marked with `t.optional`: left out of its object's `required`. */
export type TOptional<S extends TSchema = TSchema> = S & { readonly [OPTIONAL]: true };

/** The TypeScript type of the values a schema accepts. */
export type Static<S extends TSchema> = S[typeof STATIC];

export type Props = Record<string, TSchema>;

type OptionalKeys<P extends Props> = {
  [K in keyof P]-?: P[K] extends { readonly [OPTIONAL]: true } ? K : never;
}[keyof P];

// Key filtering (not remapping) keeps each property linked to its declaration: JSDoc shows on the types.
type Flatten<T> = { [K in keyof T]: T[K] } & {};
export type StaticProps<P extends Props> = Flatten<
  { [K in keyof P as K extends OptionalKeys<P> ? never : K]: Static<P[K]> } & {
    [K in keyof P as K extends OptionalKeys<P> ? K : never]?: Static<P[K]>;
  }
>;

export interface TObject<P extends Props = Props> extends TSchema<StaticProps<P>> {
  type: 'object';
  properties: P;
  required: string[];
}

interface Options {
  description?: string;
}
interface NumberOptions extends Options {
  minimum?: number;
}

/** Optional properties, remembered by identity: the mark must not show in the JSON. */
const optionals = new WeakSet<Schema>();

const typed = <T>(schema: Schema): TSchema<T> => schema as TSchema<T>;

/** A string; `T` narrows its type (`t.string<Framework>()`) where the wire accepts any string. */
export function string<T extends string = string>(options?: Options): TSchema<T> {
  return typed({ type: 'string', ...options });
}

/** A finite number. */
export function number(options?: NumberOptions): TSchema<number> {
  return typed({ type: 'number', ...options });
}

export function integer(options?: NumberOptions): TSchema<number> {
  return typed({ type: 'integer', ...options });
}

export function boolean(options?: Options): TSchema<boolean> {
  return typed({ type: 'boolean', ...options });
}

function nullSchema(options?: Options): TSchema<null> {
  return typed({ type: 'null', ...options });
}

export { nullSchema as null };

type Primitive = string | number | boolean;
const typeOfLiteral = (value: Primitive): SchemaType =>
  typeof value === 'string' ? 'string' : typeof value === 'boolean' ? 'boolean' : 'number';

/** Exactly `value` (`{type, enum: [value]}`). */
export function literal<const V extends Primitive>(value: V, options?: Options): TSchema<V> {
  return typed({ type: typeOfLiteral(value), enum: [value], ...options });
}

export interface TEnum<V extends readonly string[]> extends TSchema<V[number]> {
  type: 'string';
  enum: V;
}

/** One of the strings `values`. */
export function enumOf<const V extends readonly [string, ...string[]]>(
  values: V,
  options?: Options,
): TEnum<V> {
  return { type: 'string', enum: values, ...options } as unknown as TEnum<V>;
}

export function array<I extends TSchema>(items: I, options?: Options): TSchema<Static<I>[]> {
  return typed({ type: 'array', items, ...options });
}

/** An object with these properties; those not wrapped in `t.optional` are required. */
export function object<P extends Props>(properties: P, options?: Options): TObject<P> {
  const required = Object.keys(properties).filter((key) => !optionals.has(properties[key] as Schema));
  return { type: 'object', properties, required, ...options } as unknown as TObject<P>;
}

/** An object whose every property conforms to `values`; any object when `values` is left out. */
export function record<V extends TSchema = TSchema<unknown>>(
  values?: V,
  options?: Options,
): TSchema<Record<string, Static<V>>> {
  return typed({ type: 'object', ...(values ? { additionalProperties: values } : {}), ...options });
}

/** The property may be left out (it is not in its object's `required`). */
export function optional<S extends TSchema>(schema: S): TOptional<S> {
  const copy = { ...schema };
  optionals.add(copy);
  return copy as TOptional<S>;
}

/** Every property of `properties` made optional (`Partial<T>`). */
export function partial<P extends Props>(properties: P): { [K in keyof P]: TOptional<P[K]> } {
  const out: Record<string, TSchema> = {};
  for (const [key, schema] of Object.entries(properties)) out[key] = optional(schema);
  return out as { [K in keyof P]: TOptional<P[K]> };
}

/**
 * A value of any of `members`, which must be of different JSON types: they merge into one schema with a
 * list of types (`{type: ['string', 'number']}`), which the validator checks without backtracking.
 */
export function union<M extends TSchema[]>(...members: M): TSchema<Static<M[number]>> {
  const types: SchemaType[] = [];
  const merged: Record<string, unknown> = {};
  for (const member of members) {
    const { type, ...rest } = member as Schema;
    if (type === undefined || 'enum' in rest || 'minimum' in rest) {
      throw new Error('t.union: members must be plain typed schemas (no enum, minimum or untyped member)');
    }
    for (const one of Array.isArray(type) ? type : [type]) {
      if (types.includes(one)) throw new Error(`t.union: two members of type ${one}`);
      types.push(one);
    }
    Object.assign(merged, rest);
  }
  return typed({ type: types, ...merged });
}

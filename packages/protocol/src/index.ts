export * from './backoff.js';
export * from './envelope.js';
export * from './event-counts.js';
export * from './events.js';
export * from './failure-summary.js';
export * from './messages.js';
export * from './origin.js';
export * from './redact.js';
export * from './run-state.js';
export * from './schema.js';
export type {
  Schema,
  SchemaType,
  Static,
  StaticProps,
  TEnum,
  TObject,
  TOptional,
  TSchema,
} from './schema-builder.js';
/** The schema builder the catalog is written with: for data kept beside the wire (baselines), one source too. */
export * as t from './schema-builder.js';
export * from './subscription.js';
export * from './validate.js';

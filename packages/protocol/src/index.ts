export * from './events.js';
export * from './envelope.js';
export * from './messages.js';
export * from './subscription.js';
export * from './run-state.js';
export * from './schema.js';

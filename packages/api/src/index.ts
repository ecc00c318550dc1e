export * from './types.js';
export * from './errors.js';
export * from './resources.js';
export * from './quantity.js';
export * from './labels.js';
export * from './fields.js';
export * from './meta.js';
export * from './validation.js';

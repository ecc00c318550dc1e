export { buildApiServer, type ApiServer, type ApiServerDeps, type TlsMaterial as ServerTls } from './server.js';
export { SchemaCodec } from './handlers/schema-codec.js';
export { OpenApiV3 } from './handlers/openapi.js';
export { loadConfig, type ApiServerConfig } from './config.js';
export * from './pki/index.js';

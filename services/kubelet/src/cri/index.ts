/**
 * The kubelet's container runtime boundary (CRI). Start with runtime.ts (the interfaces and
 * their contract) and proto.ts (the message types).
 */
export * from './proto.js';
export * from './runtime.js';
export { Code, CriError, isCriError, type CodeValue } from './errors.js';
export { connectRuntime, type ConnectOptions, type RuntimeClient } from './client.js';
export { serveRuntime, type RuntimeServer, type ServeOptions } from './server.js';
export { DockerRuntime, type DockerRuntimeOptions } from './docker-runtime.js';
export {
  FakeRuntime, FakeBackend, DEFAULT_FAKE_IMAGES, exitAfter, shellBehaviour,
  type FakeRuntimeOptions, type FakeBackendOptions, type FakeBehaviour, type FakeImage, type FakeProcessContext,
} from './fake-runtime.js';
export { StreamingServer, type StreamIO, type StreamingRuntime, type ResizeEvents, type TerminalSize } from './streaming/server.js';
export { StreamSession, runStream, exitCodeOf, type StreamResult, type StreamClientOptions } from './streaming/client.js';
export { SpdyExecSession, runSpdyExec, type SpdyExecOptions, type SpdyExecResult } from './streaming/spdy-client.js';
export * as streamProtocol from './streaming/protocol.js';
// The conformance suite (it imports node:test) is a separate entry: @tskube/kubelet/cri/conformance.
export { DEFAULT_FAKE_USAGE, type FakeUsage, type FakeUsageFigures, type FakeUsageInput } from './fake-stats.js';

// Pure mapping rules of the Docker runtime; the runtime itself is tested against a real engine
// in test/src/integration/cri-docker.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerState, decodeLabels, fromDockerError, fromPullError } from './docker-runtime.js';
import { Code } from './errors.js';

function dockerErr(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) - ${message}`), { statusCode, json: { message } });
}

describe('Docker runtime mapping', () => {
  it('maps Docker states to CRI states', () => {
    const cases: Array<[string, string]> = [
      ['created', 'CONTAINER_CREATED'], ['running', 'CONTAINER_RUNNING'], ['paused', 'CONTAINER_RUNNING'],
      ['exited', 'CONTAINER_EXITED'], ['dead', 'CONTAINER_EXITED'], ['removing', 'CONTAINER_UNKNOWN'],
    ];
    for (const [docker, cri] of cases) assert.equal(containerState(docker), cri, docker);
  });

  it('splits Docker labels into labels, annotations and hidden bookkeeping', () => {
    const d = decodeLabels({
      app: 'web', 'tskube.node': 'n1', 'io.kubernetes.docker.type': 'container', 'io.kubernetes.sandbox.id': 'sb',
      'tskube.attempt': '2', 'tskube.created-at': '1700000000000000000', 'tskube.log-path': 'c/2.log',
      'tskube.annotation.example.com/x': 'y',
    }, 5);
    assert.deepEqual(d, {
      labels: { app: 'web', 'tskube.node': 'n1' }, annotations: { 'example.com/x': 'y' },
      attempt: 2, createdAt: 1700000000000000000, sandboxId: 'sb', logPath: 'c/2.log',
    });
    assert.equal(decodeLabels({}, 5).createdAt, 5, 'falls back to Docker time');
  });

  it('maps Docker errors to gRPC codes', () => {
    const cases: Array<[unknown, Code]> = [
      [dockerErr(404, 'No such container: x'), Code.NOT_FOUND],
      [dockerErr(409, 'Conflict. The container name "/k8s_x" is already in use'), Code.ALREADY_EXISTS],
      [dockerErr(409, 'Container abc is not running'), Code.FAILED_PRECONDITION],
      [dockerErr(400, 'bad parameter'), Code.INVALID_ARGUMENT],
      [dockerErr(500, 'cannot join network of a non running container'), Code.FAILED_PRECONDITION],
      [dockerErr(500, 'something odd'), Code.UNKNOWN],
      [Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }), Code.UNAVAILABLE],
    ];
    for (const [err, code] of cases) {
      const e = fromDockerError(err, 'do it');
      assert.equal(e.code, code, String(err));
      assert.match(e.message, /^do it: /);
    }
  });

  it('maps pull failures by message', () => {
    const cases: Array<[string, Code]> = [
      ['manifest for x:1 not found: manifest unknown', Code.NOT_FOUND],
      ['pull access denied for x, repository does not exist or may require docker login', Code.NOT_FOUND],
      ['Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host', Code.UNAVAILABLE],
      ['unauthorized: authentication required', Code.PERMISSION_DENIED],
      ['invalid reference format', Code.INVALID_ARGUMENT],
    ];
    for (const [msg, code] of cases) {
      const e = fromPullError(new Error(msg), 'x:1');
      assert.equal(e.codeName, Code[code], msg);
      assert.equal(e.message, `pull image "x:1": ${msg}`);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CHANNEL, PROTOCOL_V1, PROTOCOL_V4, PROTOCOL_V5, decodeClientFrame, encodeFrame, errorFrame, exitCodeStatus,
  internalErrorStatus, selectExecProtocol, successStatus, type ClientFrame, type ExecProtocol,
  JsonObjectSplitter, negotiateSpdyExecProtocol, selectPortForwardProtocol, spdyErrorPayload,
} from './protocol.js';

describe('channel protocol', () => {
  it('selects the best protocol we speak, whatever the client order', () => {
    const cases: Array<[string[], ExecProtocol | undefined]> = [
      [['v4.channel.k8s.io', 'v5.channel.k8s.io'], PROTOCOL_V5],
      [['v5.channel.k8s.io'], PROTOCOL_V5],
      [['v4.channel.k8s.io', 'channel.k8s.io'], PROTOCOL_V4],
      [[' channel.k8s.io '], PROTOCOL_V1],
      [['base64.channel.k8s.io'], undefined],
      [['SPDY/3.1+portforward.k8s.io'], undefined],
      [[], undefined],
    ];
    for (const [offered, want] of cases) assert.equal(selectExecProtocol(offered), want, offered.join(','));
  });

  it('encodes a frame as channel byte + payload', () => {
    assert.deepEqual(encodeFrame(CHANNEL.stdout, 'hi'), Buffer.from([1, 0x68, 0x69]));
    assert.deepEqual(encodeFrame(CHANNEL.error), Buffer.from([3]));
    assert.deepEqual(encodeFrame(2, Buffer.from([0, 255])), Buffer.from([2, 0, 255]));
  });

  it('decodes client frames per protocol', () => {
    const cases: Array<[string, Buffer, ExecProtocol, ClientFrame]> = [
      ['stdin', Buffer.from([0, 0x61]), PROTOCOL_V5, { kind: 'stdin', data: Buffer.from('a') }],
      ['empty stdin', Buffer.from([0]), PROTOCOL_V4, { kind: 'stdin', data: Buffer.alloc(0) }],
      ['resize', encodeFrame(4, '{"Width":80,"Height":24}'), PROTOCOL_V5, { kind: 'resize', width: 80, height: 24 }],
      ['resize under v4', encodeFrame(4, '{"Width":1,"Height":2}'), PROTOCOL_V4, { kind: 'resize', width: 1, height: 2 }],
      ['resize is not a v1 channel', encodeFrame(4, '{"Width":1,"Height":2}'), PROTOCOL_V1, { kind: 'ignored', channel: 4 }],
      ['bad resize JSON', encodeFrame(4, '{'), PROTOCOL_V5, { kind: 'invalid', reason: 'resize message is not JSON' }],
      ['negative resize', encodeFrame(4, '{"Width":-1,"Height":2}'), PROTOCOL_V5, { kind: 'invalid', reason: 'resize message needs integer Width and Height in [0, 65535]' }],
      ['v5 close of stdin', Buffer.from([255, 0]), PROTOCOL_V5, { kind: 'close', stream: 0 }],
      ['close without id', Buffer.from([255]), PROTOCOL_V5, { kind: 'invalid', reason: 'CLOSE signal without exactly one stream id' }],
      ['255 is only a channel before v5', Buffer.from([255, 0]), PROTOCOL_V4, { kind: 'ignored', channel: 255 }],
      ['data on stdout from the client', Buffer.from([1, 1]), PROTOCOL_V5, { kind: 'ignored', channel: 1 }],
      ['empty message', Buffer.alloc(0), PROTOCOL_V5, { kind: 'invalid', reason: 'empty message' }],
    ];
    for (const [name, msg, protocol, want] of cases) assert.deepEqual(decodeClientFrame(msg, protocol), want, name);
  });

  it('builds the Status kubectl reads the exit code from', () => {
    const s = exitCodeStatus(['sh', '-c', 'exit 3'], 3);
    assert.equal(s.status, 'Failure');
    assert.equal(s.reason, 'NonZeroExitCode');
    assert.deepEqual(s.details, { causes: [{ reason: 'ExitCode', message: '3' }] });
    assert.equal(s.message, 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3');
    assert.deepEqual(successStatus(), { metadata: {}, status: 'Success' });
  });

  it('writes the error channel as JSON (v4/v5) or text (v1, nothing on success)', () => {
    const ok = successStatus();
    assert.deepEqual(errorFrame(ok, PROTOCOL_V5), encodeFrame(3, '{"metadata":{},"status":"Success"}'));
    assert.equal(errorFrame(ok, PROTOCOL_V1), undefined);
    const failed = internalErrorStatus('boom');
    assert.deepEqual(errorFrame(failed, PROTOCOL_V1), encodeFrame(3, 'Internal error occurred: boom'));
    assert.equal(JSON.parse(errorFrame(failed, PROTOCOL_V4)!.subarray(1).toString()).reason, 'InternalError');
  });

  it('negotiates SPDY remotecommand protocols in the client order, comma lists included', () => {
    const cases: Array<[string[], string | undefined]> = [
      [['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'], 'v4.channel.k8s.io'],
      [['v5.channel.k8s.io, v4.channel.k8s.io'], 'v5.channel.k8s.io'],
      [['v2.channel.k8s.io', 'v4.channel.k8s.io'], 'v2.channel.k8s.io'],
      [['v9.channel.k8s.io', ' channel.k8s.io'], 'channel.k8s.io'],
      [['portforward.k8s.io'], undefined],
      [[], undefined],
    ];
    for (const [offered, want] of cases) assert.equal(negotiateSpdyExecProtocol(offered), want, offered.join('|'));
  });

  it('writes the SPDY error stream per protocol', () => {
    const fail = exitCodeStatus(['false'], 1);
    assert.deepEqual(JSON.parse(spdyErrorPayload(fail, 'v4.channel.k8s.io')!.toString()), fail);
    assert.deepEqual(JSON.parse(spdyErrorPayload(successStatus(), 'v5.channel.k8s.io')!.toString()), { metadata: {}, status: 'Success' });
    assert.equal(spdyErrorPayload(fail, 'v3.channel.k8s.io')!.toString(), fail.message);
    assert.equal(spdyErrorPayload(successStatus(), 'channel.k8s.io'), undefined);
  });

  it('splits concatenated JSON objects across chunks (the SPDY resize stream)', () => {
    const sp = new JsonObjectSplitter();
    assert.deepEqual(sp.push('{"Width":80,"Height":24}\n{"Wid'), ['{"Width":80,"Height":24}']);
    assert.deepEqual(sp.push('th":1,"Height":2,"x":"}{"}\n  {"Width":3,'), ['{"Width":1,"Height":2,"x":"}{"}']);
    assert.deepEqual(sp.push('"Height":4}'), ['{"Width":3,"Height":4}']);
    assert.deepEqual(sp.push('x'), ['x'], 'garbage comes back for the caller to report');
  });

  it('selects the port-forward form by subprotocol', () => {
    assert.equal(selectPortForwardProtocol(['v4.channel.k8s.io', 'SPDY/3.1+portforward.k8s.io']), 'SPDY/3.1+portforward.k8s.io');
    assert.equal(selectPortForwardProtocol(['v4.channel.k8s.io']), 'v4.channel.k8s.io');
    assert.equal(selectPortForwardProtocol([]), '');
    assert.equal(selectPortForwardProtocol(['v4.base64.channel.k8s.io']), undefined);
  });
});

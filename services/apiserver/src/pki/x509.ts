/**
 * The one place that loads `@peculiar/x509`. Its dependency injection (tsyringe) needs the
 * Reflect metadata polyfill loaded first, and it must be told to use Node's WebCrypto; every
 * pki module imports the library from here so that order is guaranteed.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto);

export { x509 };
export const subtle = webcrypto.subtle;

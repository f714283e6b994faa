import {
  type AddressInput,
  type BaseServer,
  type BaseServerOptions,
  TCPServer,
  UDPServer,
  UnixStreamServer,
} from '@srv/core';
import { type ForkingOptions, forking } from './forking.js';
import { type ThreadingOptions, threading } from './threading.js';

/** Any srv server class (core's, `HTTPServer`, or a subclass): what the mixins accept. */
export type ServerClass = abstract new (
  ...args: never[]
) => Pick<BaseServer<unknown>, 'ready' | 'dispatcher' | 'describeForWorker' | 'close'>;

// Only to call the base constructor: the result is cast back to the caller's own class type.
type ConcreteServer = new (address: AddressInput, handler: unknown, options?: BaseServerOptions) => object;

/** Static fields a `ThreadingMixIn` class reads (Python's names, camelCased). */
interface ThreadingStatics {
  daemonThreads?: boolean;
  blockOnClose?: boolean;
  maxThreads?: number;
  minThreads?: number;
}

/** Static fields a `ForkingMixIn` class reads. */
interface ForkingStatics {
  blockOnClose?: boolean;
  maxChildren?: number;
  minChildren?: number;
}

function threadingOptionsOf(statics: ThreadingStatics): ThreadingOptions {
  return {
    ...(statics.daemonThreads !== undefined ? { daemonThreads: statics.daemonThreads } : {}),
    ...(statics.blockOnClose !== undefined ? { blockOnClose: statics.blockOnClose } : {}),
    ...(statics.maxThreads !== undefined ? { maxThreads: statics.maxThreads } : {}),
    ...(statics.minThreads !== undefined ? { minThreads: statics.minThreads } : {}),
  };
}

function forkingOptionsOf(statics: ForkingStatics): ForkingOptions {
  return {
    ...(statics.blockOnClose !== undefined ? { blockOnClose: statics.blockOnClose } : {}),
    ...(statics.maxChildren !== undefined ? { maxChildren: statics.maxChildren } : {}),
    ...(statics.minChildren !== undefined ? { minChildren: statics.minChildren } : {}),
  };
}

/**
 * Python's `ThreadingMixIn`: a subclass of `Base` whose default dispatcher is {@link threading}, tuned
 * by the static fields `daemonThreads` (false), `blockOnClose` (true), `maxThreads` (64) and
 * `minThreads` (2). An explicit `dispatcher` option still wins. The handler must be loadable in a
 * worker (`handlerModule`, or a class with static `moduleUrl`/`exportName`); the worker rebuilds the
 * nearest class up the chain with its own static `moduleUrl`/`exportName`.
 */
export function ThreadingMixIn<T extends ServerClass>(Base: T): T {
  const Concrete = Base as unknown as ConcreteServer;
  const Threading = class extends Concrete {
    /** Python's `daemon_threads`. */
    static daemonThreads = false;
    /** Python's `block_on_close`. */
    static blockOnClose = true;
    /** Most worker threads (undefined: the dispatcher's default, 64). */
    static maxThreads: number | undefined = undefined;
    /** Threads started ahead (undefined: the dispatcher's default, 2). */
    static minThreads: number | undefined = undefined;

    constructor(address: AddressInput, handler: unknown, options: BaseServerOptions = {}) {
      super(address, handler, {
        ...options,
        dispatcher: options.dispatcher ?? threading(threadingOptionsOf(new.target as ThreadingStatics)),
      });
    }
  };
  Object.defineProperty(Threading, 'name', { value: `Threading${Base.name}` });
  return Threading as unknown as T;
}

/**
 * Python's `ForkingMixIn`: a subclass of `Base` whose default dispatcher is {@link forking}, tuned by
 * the static fields `maxChildren` (40), `minChildren` (2) and `blockOnClose` (true). An explicit
 * `dispatcher` option still wins.
 */
export function ForkingMixIn<T extends ServerClass>(Base: T): T {
  const Concrete = Base as unknown as ConcreteServer;
  const Forking = class extends Concrete {
    /** Python's `block_on_close`. */
    static blockOnClose = true;
    /** Python's `max_children` (undefined: the dispatcher's default, 40). */
    static maxChildren: number | undefined = undefined;
    /** Children started ahead (undefined: the dispatcher's default, 2). */
    static minChildren: number | undefined = undefined;

    constructor(address: AddressInput, handler: unknown, options: BaseServerOptions = {}) {
      super(address, handler, {
        ...options,
        dispatcher: options.dispatcher ?? forking(forkingOptionsOf(new.target as ForkingStatics)),
      });
    }
  };
  Object.defineProperty(Forking, 'name', { value: `Forking${Base.name}` });
  return Forking as unknown as T;
}

/** Python's `ThreadingTCPServer`: a {@link TCPServer} whose handlers run in worker threads. */
export class ThreadingTCPServer extends ThreadingMixIn(TCPServer) {}
/** Python's `ForkingTCPServer`: a {@link TCPServer} whose connections are served by child processes. */
export class ForkingTCPServer extends ForkingMixIn(TCPServer) {}
/** Python's `ThreadingUDPServer`: a {@link UDPServer} whose handlers run in worker threads. */
export class ThreadingUDPServer extends ThreadingMixIn(UDPServer) {}
/** Python's `ForkingUDPServer`: a {@link UDPServer} whose datagrams are handled by child processes. */
export class ForkingUDPServer extends ForkingMixIn(UDPServer) {}
/** Python's `ThreadingUnixStreamServer`. */
export class ThreadingUnixStreamServer extends ThreadingMixIn(UnixStreamServer) {}
/** Python's `ForkingUnixStreamServer`. */
export class ForkingUnixStreamServer extends ForkingMixIn(UnixStreamServer) {}

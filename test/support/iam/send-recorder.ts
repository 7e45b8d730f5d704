// Records the AWS calls real SDK clients send (against moto), attributed to the function that sent them:
// each client class's `send` is wrapped (the call still goes out), and the caller is whatever
// `recorder.as(functionKey, ...)` is running (AsyncLocalStorage, so concurrent steps do not mix).
// Calls made outside `as` (the test's own set-up and checks) are not recorded.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RecordedCall } from './requests.js';

type SendFn = (this: any, command: any, ...rest: any[]) => any;
type ClientClass = { prototype: { send: SendFn } };

export class SendRecorder {
  readonly calls: RecordedCall[] = [];
  private readonly caller = new AsyncLocalStorage<string>();
  private readonly originals = new Map<ClientClass, SendFn>();
  private readonly pending: Promise<void>[] = [];

  constructor(
    private readonly classes: Record<string, ClientClass>,
    private readonly accountOf: (accessKeyId: string) => string,
  ) {}

  install(): this {
    for (const [service, cls] of Object.entries(this.classes)) {
      const original = cls.prototype.send;
      this.originals.set(cls, original);
      const recorder = this;
      cls.prototype.send = function (this: any, command: any, ...rest: any[]) {
        const caller = recorder.caller.getStore();
        if (caller) recorder.pending.push(recorder.record(service, caller, this, command));
        return original.call(this, command, ...rest);
      };
    }
    return this;
  }

  uninstall(): void {
    for (const [cls, original] of this.originals) cls.prototype.send = original;
    this.originals.clear();
  }

  /** Runs fn with its AWS calls attributed to `caller` (a function key). */
  as<T>(caller: string, fn: () => Promise<T>): Promise<T> {
    return this.caller.run(caller, fn);
  }

  /** The calls recorded so far (after their client details were read). */
  async recorded(): Promise<RecordedCall[]> {
    await Promise.all(this.pending);
    return [...this.calls];
  }

  clear(): void {
    this.calls.length = 0;
    this.pending.length = 0;
  }

  private async record(service: string, caller: string, client: any, command: any): Promise<void> {
    const credentials = await client.config.credentials();
    const region = typeof client.config.region === 'function' ? await client.config.region() : client.config.region;
    this.calls.push({
      service,
      operation: command.constructor.name.replace(/Command$/, ''),
      input: command.input,
      region,
      account: this.accountOf(credentials.accessKeyId),
      caller,
    });
  }
}

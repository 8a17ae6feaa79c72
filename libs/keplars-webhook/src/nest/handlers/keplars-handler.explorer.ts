import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { isKnownKeplarsEventType, KEPLARS_EVENT_TYPES, type KeplarsEvent } from '../../core/0-event/keplars-event.js';
import { KeplarsLog } from '../log/keplars-log.js';
import { KeplarsEndpoints, type KeplarsEndpoint } from '../options/keplars-endpoints.js';
import { type ResolvedKeplarsOptions } from '../options/resolve-keplars-options.js';
import { KeplarsHandlerRegistry } from '../../core/4-deliver/keplars-handler-registry.js';
import { KEPLARS_EVENT_HANDLER, type KeplarsSubscription } from './on-keplars-event.decorator.js';
import type { KeplarsEventHandler, HandlerSubscription, KeplarsTransactionKind } from '../../core/0-event/keplars-event-handler.js';

const TRANSACTION_KINDS: readonly KeplarsTransactionKind[] = ['pg', 'typeorm', 'pglite'];
import { KeplarsConfigurationError } from '../../core/support/configuration-error.js';
import { EmailLedgers } from '../ledger/email-ledgers.js';
import { KEPLARS_SUPPRESSION_HANDLER, type OnAddressSuppressedOptions } from '../ledger/on-address-suppressed.decorator.js';
import type { AddressSuppressedNotice } from '../../core/email-ledger/email-ledger.js';

type ProviderWrapper = ReturnType<DiscoveryService['getProviders']>[number];

/** How handlers run on each endpoint, in words for the startup log. */
function deliveryModes(endpoints: readonly KeplarsEndpoint[]): string {
  const modes = endpoints.map((endpoint) => deliveryMode(endpoint.queue));
  if (new Set(modes).size <= 1) return modes[0] ?? deliveryMode(undefined);
  return endpoints.map((endpoint, index) => `${modes[index]} on endpoint ${endpoint.name}`).join('; ');
}

/** A handler's endpoint and tenant filters, in words for the startup log. */
function filtersOf(handler: KeplarsEventHandler): string {
  const filtered = handler.subscriptions?.filter((subscription) => subscription.endpoints || subscription.tenants) ?? [];
  if (filtered.length === 0) return '';
  const words = filtered.map((subscription) =>
    [subscription.endpoints && `endpoint ${subscription.endpoints.join(' or ')}`, subscription.tenants && `tenant ${subscription.tenants.join(' or ')}`].filter(Boolean).join(', '),
  );
  return ` from ${[...new Set(words)].join('; ')}`;
}

/** How handlers run, in words for the startup log. */
function deliveryMode(queue: ResolvedKeplarsOptions['queue']): string {
  if (queue === undefined) return 'inline mode: handlers run before Keplars gets its answer';
  if (queue.role === 'receive') return 'queue mode, receive only: handlers run in the apps whose queue role processes';
  return `queue mode (${queue.role}): workers run handlers after the delivery is queued`;
}

/**
 * Finds every `@OnKeplarsEvent()` method of the app's providers at startup and registers it; refuses
 * what cannot work (a request-scoped provider, a malformed pattern) and warns of a type Keplars does
 * not send; adds each `@OnEvent('keplars.…')` listener as a handler of its own. Logs what it
 * found, and warns when it found nothing: a service left out of `providers` is never instantiated, so
 * its handlers silently never run. It lives in the module every import of `KeplarsWebhookModule`
 * shares, so it runs (and logs) once however many endpoints there are.
 */
@Injectable()
export class KeplarsHandlerExplorer implements OnModuleInit {
  private readonly logger = new KeplarsLog();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly moduleRef: ModuleRef,
    private readonly registry: KeplarsHandlerRegistry,
    private readonly endpoints: KeplarsEndpoints,
    private readonly ledgers: EmailLedgers,
  ) {}

  async onModuleInit(): Promise<void> {
    const problems: string[] = [];
    const names = new Map<string, number>();
    // Several methods may share a class and method name (two providers of one class): the name is a
    // deduplication key, so each gets its own.
    const uniqueName = (base: string): string => {
      const seen = (names.get(base) ?? 0) + 1;
      names.set(base, seen);
      return seen === 1 ? base : `${base}#${seen}`;
    };
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.isAlias) continue; // useExisting: the provider it points to is scanned itself
      for (const { method, subscriptions } of this.handlerMethods(wrapper)) {
        const base = `${wrapper.metatype?.name ?? String(wrapper.token)}.${method}`;
        const name = uniqueName(base);

        const checked = this.checkSubscriptions(base, subscriptions, problems);
        if (checked === undefined) continue;
        if (!wrapper.isDependencyTreeStatic()) {
          problems.push(requestScoped(base, wrapper.name));
          continue;
        }
        const patterns = [...new Set(checked.flatMap((subscription) => subscription.patterns))];
        this.warnOfUnknownTypes(base, patterns);
        const instance = wrapper.instance as Record<string, (event: KeplarsEvent, transaction?: unknown) => unknown>;
        const filtered = checked.some((subscription) => subscription.endpoints !== undefined || subscription.tenants !== undefined);
        const transaction = this.transactionOf(base, subscriptions, problems);
        this.registry.add({
          name,
          patterns,
          ...(filtered ? { subscriptions: checked } : {}),
          ...(transaction ? { transaction, invoke: (event, open) => instance[method]!(event, open) } : { invoke: (event) => instance[method]!(event) }),
        });
      }
    }
    this.addSuppressionHandlers(uniqueName, problems);
    const endpoints = this.endpoints.all();
    const emittingFrom = endpoints.filter((endpoint) => endpoint.emitEvents);
    if (emittingFrom.length > 0) {
      await this.addEventListeners(uniqueName, problems, emittingFrom.length === endpoints.length ? undefined : emittingFrom.map((endpoint) => endpoint.name));
    }
    if (problems.length > 0) throw new KeplarsConfigurationError(problems);
    this.logFound([...this.registry.all()]);
  }

  /**
   * Each `@OnAddressSuppressed()` method becomes a handler of the suppressing events on every endpoint
   * whose ledger it takes, run after that ledger's record (see `EmailLedger.reaction`).
   */
  private addSuppressionHandlers(uniqueName: (base: string) => string, problems: string[]): void {
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.isAlias || !wrapper.instance) continue;
      const prototype = Object.getPrototypeOf(wrapper.instance);
      if (!prototype || prototype === Object.prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const options: OnAddressSuppressedOptions | undefined = Reflect.getMetadata(KEPLARS_SUPPRESSION_HANDLER, prototype[method]);
        if (options === undefined) continue;
        const base = `${wrapper.metatype?.name ?? String(wrapper.token)}.${method}`;
        if (!wrapper.isDependencyTreeStatic()) {
          problems.push(requestScoped(`@OnAddressSuppressed() handler ${base}`, wrapper.name));
          continue;
        }
        const wanted = options.endpoint === undefined ? undefined : [options.endpoint].flat();
        const ledgers = this.ledgers.all().filter((ledger) => wanted === undefined || wanted.includes(ledger.endpoint));
        if (ledgers.length === 0) {
          problems.push(
            `@OnAddressSuppressed() on ${base} would never run: ${wanted ? `no endpoint named ${wanted.join(' or ')} keeps an email ledger` : 'no import of KeplarsWebhookModule keeps an email ledger'}. ` +
              'Turn it on with ledger: true in that import\'s options.',
          );
          continue;
        }
        const instance = wrapper.instance as Record<string, (notice: AddressSuppressedNotice) => unknown>;
        const name = uniqueName(base);
        for (const ledger of ledgers) this.registry.add(ledger.reaction(name, (notice) => instance[method]!(notice)));
      }
    }
  }

  private logFound(found: readonly KeplarsEventHandler[]): void {
    const mode = deliveryModes(this.endpoints.all());
    for (const handler of found) {
      this.logger.log(`Handler ${handler.name} takes ${handler.patterns.join(', ')}${filtersOf(handler)} (${mode})`);
    }
    if (found.length > 0) return;
    this.logger.warn(
      'No @OnKeplarsEvent() handler was found, so webhooks will be answered 200 and no handler of yours will run. ' +
        'If a service has @OnKeplarsEvent() methods, list it in the `providers` of a module the app imports: ' +
        'Nest never creates a service that is left out, so its handlers are never found.',
    );
  }

  private handlerMethods(wrapper: ProviderWrapper): { method: string; subscriptions: readonly KeplarsSubscription[] }[] {
    const prototype = wrapper.instance ? Object.getPrototypeOf(wrapper.instance) : wrapper.metatype?.prototype;
    if (!prototype || prototype === Object.prototype) return [];
    return this.scanner.getAllMethodNames(prototype).flatMap((method) => {
      const subscriptions: KeplarsSubscription[] | undefined = Reflect.getMetadata(KEPLARS_EVENT_HANDLER, prototype[method]);
      return subscriptions ? [{ method, subscriptions }] : [];
    });
  }

  /** The decorators' arguments, checked: patterns, and filters naming endpoints that exist. */
  private checkSubscriptions(handler: string, subscriptions: readonly KeplarsSubscription[], problems: string[]): HandlerSubscription[] | undefined {
    const before = problems.length;
    const names = this.endpoints.all().map((endpoint) => endpoint.name);
    const checked = subscriptions.map(({ patterns, filter }): HandlerSubscription => {
      const malformed = patterns.filter((pattern) => typeof pattern !== 'string' || pattern === '');
      if (patterns.length === 0 || malformed.length > 0) {
        problems.push(`@OnKeplarsEvent() on ${handler} needs event types such as 'email.opened', a list of them, or '*' (got ${JSON.stringify(patterns)}).`);
      }
      const endpoints = filterList(handler, 'endpoint', filter?.endpoint, problems);
      for (const endpoint of endpoints ?? []) {
        if (!names.includes(endpoint)) {
          problems.push(`@OnKeplarsEvent() on ${handler} takes events of endpoint "${endpoint}", but no import of KeplarsWebhookModule has that name (the names are: ${names.join(', ')}).`);
        }
      }
      return { patterns: patterns as string[], endpoints, tenants: filterList(handler, 'tenant', filter?.tenant, problems) };
    });
    return problems.length === before ? checked : undefined;
  }

  /** The transaction a handler asks for; stacked decorators must agree (it is one method, run one way). */
  private transactionOf(handler: string, subscriptions: readonly KeplarsSubscription[], problems: string[]): KeplarsTransactionKind | undefined {
    const kinds = new Set(subscriptions.map((subscription) => subscription.transaction));
    if (kinds.size > 1) {
      problems.push(`@OnKeplarsEvent() decorators on ${handler} disagree on its transaction (${[...kinds].map((kind) => kind ?? 'none').join(', ')}): give each the same { transaction }.`);
      return undefined;
    }
    const [kind] = kinds;
    if (kind !== undefined && !TRANSACTION_KINDS.includes(kind)) {
      problems.push(`@OnKeplarsEvent() on ${handler}: transaction must be 'pg', 'typeorm' or 'pglite' (got ${JSON.stringify(kind)}).`);
      return undefined;
    }
    return kind;
  }

  private warnOfUnknownTypes(handler: string, patterns: readonly string[]): void {
    for (const pattern of patterns) {
      if (pattern === '*' || pattern.endsWith('.*') || isKnownKeplarsEventType(pattern)) continue;
      this.logger.warn(
        `${handler} listens to "${pattern}", which is not a Keplars event type this module knows (${KEPLARS_EVENT_TYPES.join(', ')}). ` +
          'If it is a typo, fix it; if Keplars added this type, the handler will receive it.',
      );
    }
  }

  /**
   * Each `@OnEvent('keplars.…')` listener (on a provider or controller, with `@nestjs/event-emitter`'s
   * `EventEmitterModule` imported) becomes a handler of its own, named `Class.method`, with every
   * guarantee of an `@OnKeplarsEvent()` handler: its failure gets the delivery answered 500 and only
   * it runs again on the retry. Which events it takes is decided by an emitter configured like the
   * app's (wildcard, delimiter), so `keplars.email.*` and `keplars.**` match exactly as they would.
   * The module calls these listeners itself and no longer emits `keplars.*` on the app's emitter, so
   * a listener added by hand with `emitter.on()` receives nothing. With `endpoints`, listeners take only
   * those endpoints' events (the others turned `emitEvents` off).
   */
  private async addEventListeners(uniqueName: (base: string) => string, problems: string[], endpoints: readonly string[] | undefined): Promise<void> {
    let metadataKey: string;
    let emitter: AppEventEmitter | undefined;
    try {
      const eventEmitterPackage = await import('@nestjs/event-emitter');
      metadataKey = eventEmitterPackage.EVENT_LISTENER_METADATA ?? 'EVENT_LISTENER_METADATA';
      emitter = this.moduleRef.get(eventEmitterPackage.EventEmitter2, { strict: false }) as unknown as AppEventEmitter;
    } catch {
      return; // @nestjs/event-emitter not installed, or EventEmitterModule not imported
    }
    if (!emitter) return;
    const Emitter = emitter.constructor as new (options: object) => AppEventEmitter;
    const delimiter = emitter.delimiter ?? '.';
    const matcher = new Emitter({ wildcard: emitter.wildcard === true, delimiter, maxListeners: 0 });
    const nameOf = (type: string) => `keplars.${type}`;

    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      if (wrapper.isAlias || !wrapper.instance) continue;
      const prototype = Object.getPrototypeOf(wrapper.instance);
      if (!prototype || prototype === Object.prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const listens: { event: unknown }[] | undefined = Reflect.getMetadata(metadataKey, prototype[method]);
        if (!listens?.length) continue;
        const marker = () => undefined;
        for (const { event } of listens) matcher.on(event, marker);
        const matches = (type: string) => matcher.listeners(nameOf(type)).includes(marker);
        const isKeplarsListener =
          listens.some(({ event }) => namesKeplars(event, delimiter)) || KEPLARS_EVENT_TYPES.some((type) => matches(type));
        if (!isKeplarsListener) {
          for (const { event } of listens) matcher.off(event, marker);
          continue;
        }
        const base = `${wrapper.metatype?.name ?? String(wrapper.token)}.${method}`;
        if (!wrapper.isDependencyTreeStatic()) {
          problems.push(requestScoped(`@OnEvent() listener ${base}`, wrapper.name));
          continue;
        }
        const instance = wrapper.instance as Record<string, (event: KeplarsEvent) => unknown>;
        const patterns = listens.map(({ event }) => (Array.isArray(event) ? event.join(delimiter) : String(event)));
        this.registry.add({
          name: uniqueName(base),
          patterns,
          matches,
          ...(endpoints ? { subscriptions: [{ patterns, endpoints }] } : {}),
          invoke: (event) => instance[method]!(event),
        });
      }
    }
  }
}

/** The part of EventEmitter2 used here. */
interface AppEventEmitter {
  readonly wildcard?: boolean;
  readonly delimiter?: string;
  on(event: unknown, listener: () => unknown): unknown;
  off(event: unknown, listener: () => unknown): unknown;
  listeners(event: string): unknown[];
}

/** `'keplars.…'` (or `['keplars', …]`): meant for this module's events, even of a type not known yet. */
function namesKeplars(event: unknown, delimiter: string): boolean {
  if (typeof event === 'string') return event.startsWith(`keplars${delimiter}`);
  return Array.isArray(event) && event[0] === 'keplars';
}

function requestScoped(what: string, provider: string): string {
  return (
    `${what} handles Keplars events but ${provider} is request-scoped (or depends on a request-scoped provider). ` +
    "A webhook is not a request of your app's users: move the handler to a singleton provider."
  );
}

function filterList(handler: string, key: 'endpoint' | 'tenant', value: unknown, problems: string[]): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const list: readonly unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((item) => typeof item !== 'string' || item === '')) {
    problems.push(`@OnKeplarsEvent() on ${handler}: ${key} must be a ${key} name or a list of them (got ${JSON.stringify(value)}).`);
    return undefined;
  }
  return list as string[];
}

/** A configuration the module refuses to start with; the message lists every problem and its fix. */
export class KeplarsConfigurationError extends Error {
  /**
   * @param problems every problem found, each a sentence that names the option and how to fix it.
   * @param module the module that refuses to start (the dashboard has its own).
   */
  constructor(
    readonly problems: readonly string[],
    module: 'KeplarsWebhookModule' | 'KeplarsDashboardModule' = 'KeplarsWebhookModule',
  ) {
    super(`${module} cannot start:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'KeplarsConfigurationError';
  }
}

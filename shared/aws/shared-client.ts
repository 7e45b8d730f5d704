// One AWS client per container, made at its first use with the SDK's defaults (the Lambda's own
// region and role); tests swap it (moto endpoint or aws-sdk-client-mock), the CLI configures it from
// --profile/--region.
export function sharedClient<C, Config>(make: (config: Config) => C, defaults: Config) {
  let client: C | undefined;
  return {
    get: (): C => (client ??= make(defaults)),
    set: (c: C | undefined): void => void (client = c),
    configure: (config: Config): void => void (client = make(config)),
  };
}

// Secrets Manager clients. Not cached: each caller passes the account's credentials and the secret's
// region (a secret lives in its ARN's region, which need not be the Lambda's).
import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';

export function secretsManagerClient(config: SecretsManagerClientConfig = {}): SecretsManagerClient {
  return new SecretsManagerClient({ ...config });
}

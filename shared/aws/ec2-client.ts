// The EC2 client, alone in its module: the cut-over and fall-back steps load it (and the security-group
// blocker) only for a security-group write block, and importing the network reads of ec2.ts with it
// would put every EC2 command those use into their bundles.
import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';

export function ec2Client(config: EC2ClientConfig = {}): EC2Client {
  return new EC2Client({ ...config });
}

// Publishes a notification to the migration's SNS topics: the stack's topic (CROSSMOVE_TOPIC_ARN, set
// by serverless.yml) and the input's notify.topicArn. Without a topic the notification is
// only logged. Every text passes through redact() on its way out.
import { PublishCommand } from '@aws-sdk/client-sns';
import { logger } from '../logger.js';
import { redact } from '../redact.js';
import { snsClientFor } from '../aws/sns.js';
import type { Notification } from './types.js';

export interface PublishResult {
  published: boolean;
  messageId?: string;
}

/** The topics a migration's notifications go to: the stack's topic and the input's, each once. */
export function notificationTopics(inputTopicArn: string | undefined): string[] {
  return [...new Set([process.env.CROSSMOVE_TOPIC_ARN, inputTopicArn].filter((t): t is string => !!t))];
}

/** Publishes to every topic given (a string or a list); `messageId` is the last one's. */
export async function publishNotification(topics: string | undefined | (string | null | undefined)[], n: Notification): Promise<PublishResult> {
  const targets = [...new Set([topics].flat().filter((t): t is string => !!t))];
  const subject = toSubject(redact(n.subject));
  const text = redact(n.text);
  logger.info(`notification: ${subject}`, { kind: n.kind, topics: targets });
  let messageId: string | undefined;
  for (const topicArn of targets) {
    const out = await snsClientFor(topicArn).send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: subject,
        Message: text,
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: n.kind },
          migrationId: { DataType: 'String', StringValue: n.migrationId },
        },
      }),
    );
    messageId = out.MessageId;
  }
  return targets.length ? { published: true, messageId } : { published: false };
}

/** SNS Subject: ASCII-printable, no line breaks, at most 100 characters. */
export function toSubject(text: string): string {
  const clean = text.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim();
  return clean.length <= 100 ? clean : `${clean.slice(0, 97)}...`;
}

type NotificationKind =
  | 'approval-needed'
  | 'approval-not-given'
  | 'migration-succeeded'
  | 'migration-failed'
  /** The target is the primary; a step after the point of no return did not finish. */
  | 'migrated-unfinished'
  /** The scheduled lag check (lag.ts). */
  | 'replication-broken'
  | 'lag-above-limit';

export interface Notification {
  kind: NotificationKind;
  migrationId: string;
  /** One line, at most 100 characters (SNS Subject limit). */
  subject: string;
  /** Plain text for e-mail subscribers. */
  text: string;
}

CREATE TABLE `event_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` integer NOT NULL,
	`subscription` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`lease_until` integer,
	`last_attempt_at` integer,
	`last_status` integer,
	`last_error` text,
	`delivered_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`event_id`) REFERENCES `registry_events`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`subscription`) REFERENCES `event_subscriptions`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `event_deliveries_event_subscription` ON `event_deliveries` (`event_id`,`subscription`);--> statement-breakpoint
CREATE INDEX `event_deliveries_status` ON `event_deliveries` (`status`,`lease_until`);--> statement-breakpoint
CREATE INDEX `event_deliveries_subscription` ON `event_deliveries` (`subscription`,`id`);--> statement-breakpoint
CREATE TABLE `event_subscriptions` (
	`name` text PRIMARY KEY NOT NULL,
	`endpoint` text NOT NULL,
	`pattern` text NOT NULL,
	`secret_sealed` text NOT NULL,
	`enabled` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `registry_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_id` text NOT NULL,
	`at` integer NOT NULL,
	`detail_type` text NOT NULL,
	`repository` text,
	`body` text NOT NULL,
	`dispatched_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `registry_events_event_id_unique` ON `registry_events` (`event_id`);--> statement-breakpoint
CREATE INDEX `registry_events_pending` ON `registry_events` (`dispatched_at`,`id`);--> statement-breakpoint
ALTER TABLE `audit_events` ADD `event_id` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `request_id` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `source` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `identity_type` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `access_key_id` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `source_ip` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `user_agent` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `error_code` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `error_message` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `request_parameters` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `read_only` integer;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `calls` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE INDEX `audit_events_at` ON `audit_events` (`at`);--> statement-breakpoint
CREATE INDEX `audit_events_actor` ON `audit_events` (`actor`,`at`);--> statement-breakpoint
CREATE INDEX `audit_events_action` ON `audit_events` (`action`,`at`);
CREATE TABLE `registry_settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `access_keys` ADD `secret_sealed` text;--> statement-breakpoint
ALTER TABLE `manifests` ADD `image_size` integer;--> statement-breakpoint
ALTER TABLE `manifests` ADD `last_pulled_at` integer;--> statement-breakpoint
ALTER TABLE `manifests` ADD `pull_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `repositories` ADD `scan_on_push` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `repositories` ADD `encryption_type` text DEFAULT 'AES256' NOT NULL;--> statement-breakpoint
ALTER TABLE `repositories` ADD `kms_key` text;
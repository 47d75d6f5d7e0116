CREATE TABLE `gc_objects` (
	`object_key` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`marked_at` integer NOT NULL,
	`changed_at` integer NOT NULL,
	`size` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `repository_blobs_object_key` ON `repository_blobs` (`object_key`);
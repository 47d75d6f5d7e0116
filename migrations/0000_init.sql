CREATE TABLE `manifests` (
	`repository` text NOT NULL,
	`digest` text NOT NULL,
	`media_type` text NOT NULL,
	`size` integer NOT NULL,
	`body` text,
	`artifact_type` text,
	`subject` text,
	`annotations` text,
	`blob_digests` text DEFAULT '[]' NOT NULL,
	`child_digests` text DEFAULT '[]' NOT NULL,
	`pushed_at` integer NOT NULL,
	PRIMARY KEY(`repository`, `digest`),
	FOREIGN KEY (`repository`) REFERENCES `repositories`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `manifests_subject` ON `manifests` (`repository`,`subject`);--> statement-breakpoint
CREATE TABLE `repositories` (
	`name` text PRIMARY KEY NOT NULL,
	`image_tag_mutability` text DEFAULT 'MUTABLE' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `repository_blobs` (
	`repository` text NOT NULL,
	`digest` text NOT NULL,
	`size` integer NOT NULL,
	`object_key` text NOT NULL,
	`linked_at` integer NOT NULL,
	PRIMARY KEY(`repository`, `digest`),
	FOREIGN KEY (`repository`) REFERENCES `repositories`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `repository_blobs_digest` ON `repository_blobs` (`digest`);--> statement-breakpoint
CREATE TABLE `tags` (
	`repository` text NOT NULL,
	`tag` text NOT NULL,
	`digest` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`repository`, `tag`),
	FOREIGN KEY (`repository`,`digest`) REFERENCES `manifests`(`repository`,`digest`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `tags_digest` ON `tags` (`repository`,`digest`);
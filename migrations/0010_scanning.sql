CREATE TABLE `advisories` (
	`id` text PRIMARY KEY NOT NULL,
	`modified` text NOT NULL,
	`document` text NOT NULL,
	`imported_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `advisory_packages` (
	`advisory_id` text NOT NULL,
	`ecosystem` text NOT NULL,
	`name` text NOT NULL,
	PRIMARY KEY(`advisory_id`, `ecosystem`, `name`),
	FOREIGN KEY (`advisory_id`) REFERENCES `advisories`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `advisory_packages_name` ON `advisory_packages` (`ecosystem`,`name`);--> statement-breakpoint
CREATE TABLE `image_scans` (
	`repository` text NOT NULL,
	`digest` text NOT NULL,
	`status` text NOT NULL,
	`description` text,
	`started_at` integer NOT NULL,
	`completed_at` integer,
	`source_updated_at` integer,
	`inventory` text,
	`severity_counts` text,
	PRIMARY KEY(`repository`, `digest`),
	FOREIGN KEY (`repository`,`digest`) REFERENCES `manifests`(`repository`,`digest`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `layer_inventories` (
	`digest` text PRIMARY KEY NOT NULL,
	`content` text NOT NULL,
	`read_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `scan_findings` (
	`repository` text NOT NULL,
	`digest` text NOT NULL,
	`advisory_id` text NOT NULL,
	`package_name` text NOT NULL,
	`package_version` text NOT NULL,
	`fixed_version` text,
	`severity` text NOT NULL,
	`severity_rank` integer NOT NULL,
	`description` text,
	`uri` text,
	`attributes` text NOT NULL,
	PRIMARY KEY(`repository`, `digest`, `advisory_id`, `package_name`, `package_version`),
	FOREIGN KEY (`repository`,`digest`) REFERENCES `image_scans`(`repository`,`digest`) ON UPDATE no action ON DELETE cascade
);

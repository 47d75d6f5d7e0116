CREATE TABLE `repository_creation_templates` (
	`prefix` text PRIMARY KEY NOT NULL,
	`description` text,
	`applied_for` text NOT NULL,
	`image_tag_mutability` text DEFAULT 'MUTABLE' NOT NULL,
	`image_tag_mutability_exclusion_filters` text DEFAULT '[]' NOT NULL,
	`repository_policy` text,
	`lifecycle_policy` text,
	`resource_tags` text DEFAULT '{}' NOT NULL,
	`encryption_type` text DEFAULT 'AES256' NOT NULL,
	`kms_key` text,
	`custom_role_arn` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);

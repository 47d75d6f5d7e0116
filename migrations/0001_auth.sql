CREATE TABLE `access_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`user` text NOT NULL,
	`secret_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`user`) REFERENCES `users`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `access_keys_user` ON `access_keys` (`user`);--> statement-breakpoint
CREATE TABLE `user_policies` (
	`user` text NOT NULL,
	`name` text NOT NULL,
	`document` text NOT NULL,
	PRIMARY KEY(`user`, `name`),
	FOREIGN KEY (`user`) REFERENCES `users`(`name`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `users` (
	`name` text PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_id_unique` ON `users` (`id`);--> statement-breakpoint
ALTER TABLE `repositories` ADD `policy` text;--> statement-breakpoint
ALTER TABLE `repositories` ADD `tags` text DEFAULT '{}' NOT NULL;
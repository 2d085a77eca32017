ALTER TABLE `campaigns` ADD `calling_window_start` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `calling_window_end` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `calling_days` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `calling_timezone` text;--> statement-breakpoint
ALTER TABLE `contacts` ADD `timezone` text;

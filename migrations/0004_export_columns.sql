ALTER TABLE `campaigns` ADD `custom_columns` text DEFAULT '[]' NOT NULL;
--> statement-breakpoint
-- Campaigns created before the column: their first contact's keys, in stored order (a CSV upload gives every contact every column).
UPDATE `campaigns` SET `custom_columns` = coalesce(
	(SELECT json_group_array(`key`) FROM json_each((SELECT `custom_fields` FROM `contacts` WHERE `contacts`.`campaign_id` = `campaigns`.`id` ORDER BY `seq` LIMIT 1))),
	'[]'
);

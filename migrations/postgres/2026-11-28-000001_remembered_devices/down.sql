DROP TABLE remembered_devices;
ALTER TABLE clients DROP COLUMN remembered_device_mfa;
ALTER TABLE clients DROP COLUMN allow_remembered_devices;
ALTER TABLE tenants DROP COLUMN remember_device_days;

"""Pure sensing: BLE advertisements and PCM in, sightings and sound events out. No I/O here."""

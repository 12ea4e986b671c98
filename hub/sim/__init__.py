"""The virtual home: ESPHome device emulators and the scenario engine that drives them."""

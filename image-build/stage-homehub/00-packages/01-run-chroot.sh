#!/bin/bash -e
# No swap: swapped-out pages could hold audio buffers (privacy invariant 1) and wear the card.
if dpkg -s dphys-swapfile >/dev/null 2>&1; then
	apt-get purge -y dphys-swapfile
fi

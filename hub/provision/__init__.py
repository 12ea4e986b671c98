"""Taking a sensor from a USB cable to an adopted, encrypted link.

``improv`` and ``repl`` are the two serial protocols (codecs and sessions, tested on bytes and
on a pseudo-terminal), ``serialport`` opens a port, ``registry`` records adopted sensors and
their keys, and ``adopt`` runs the whole procedure for ``homehub sensor provision``.
"""

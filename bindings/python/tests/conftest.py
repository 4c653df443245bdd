import os
import sys

# The tests import their in-process network helper by name.
sys.path.insert(0, os.path.dirname(__file__))

import sys

from llmscout.cli import main

sys.exit(main())

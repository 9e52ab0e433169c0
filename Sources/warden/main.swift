import WardenCore
import WardenDaemon
print("warden")

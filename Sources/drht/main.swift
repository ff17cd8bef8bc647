import DRHTEngine
print("drht")

"""PyTorch: no recipe is needed by today's pages (the torch page maps onto MindSpore parameter for parameter)."""

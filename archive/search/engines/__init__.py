"""search/engines"""

"""The bureau package (报送材料包): its format (build and read) and importing one into a competition."""
